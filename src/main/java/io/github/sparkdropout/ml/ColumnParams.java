package io.github.sparkdropout.ml;

import io.github.sparkdropout.data.DataException;
import io.github.sparkdropout.data.FrameShards;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.param.Param;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.Serializable;
import java.util.Arrays;
import java.util.function.BiConsumer;

/**
 * The columns the Estimator and its Model share, with MLlib's names and defaults: the input vector
 * ({@code featuresCol}), the three outputs of a probabilistic classifier, and a flag for rows whose features lie
 * outside the range the network was trained on (an empty name leaves that output out).
 */
final class ColumnParams implements Serializable {
    private static final long serialVersionUID = 1L;

    final Param<String> featuresCol;
    final Param<String> predictionCol;
    final Param<String> probabilityCol;
    final Param<String> rawPredictionCol;
    final Param<String> featuresOutOfRangeCol;

    ColumnParams(String parent) {
        featuresCol = new Param<>(parent, "featuresCol", "features column name (a vector of finite numbers, dense or sparse)");
        predictionCol = new Param<>(parent, "predictionCol", "prediction column name (the class, a double)");
        probabilityCol = new Param<>(parent, "probabilityCol",
                "column name for the predicted class probabilities (a vector, one per class)");
        rawPredictionCol = new Param<>(parent, "rawPredictionCol",
                "column name for the raw prediction: the output layer's logits, before softmax (a vector, one per class)");
        featuresOutOfRangeCol = new Param<>(parent, "featuresOutOfRangeCol", "column name for a boolean, true where"
                + " a feature lies outside that feature's range in the training rows, which the network never saw"
                + " (the row is scored all the same)");
    }

    void setDefaults(BiConsumer<Param<String>, String> setDefault) {
        setDefault.accept(featuresCol, "features");
        setDefault.accept(predictionCol, "prediction");
        setDefault.accept(probabilityCol, "probability");
        setDefault.accept(rawPredictionCol, "rawPrediction");
        setDefault.accept(featuresOutOfRangeCol, "featuresOutOfRange");
    }

    /** {@code schema} plus the output columns {@code values} names (non-empty ones), which must be new. */
    static StructType withOutputs(StructType schema, String features, String raw, String probability,
                                  String prediction, String outOfRange) {
        FrameShards.requireColumns(schema, features, null);
        StructType out = schema;
        for (String[] c : new String[][]{{raw, "v"}, {probability, "v"}, {prediction, "d"}, {outOfRange, "b"}}) {
            if (c[0] == null || c[0].isEmpty()) {
                continue;
            }
            if (Arrays.asList(out.fieldNames()).contains(c[0])) {
                throw new DataException("output column '" + c[0] + "' exists already in the frame: choose another"
                        + " name");
            }
            out = out.add(c[0], c[1].equals("v") ? SQLDataTypes.VectorType() : c[1].equals("b")
                    ? DataTypes.BooleanType : DataTypes.DoubleType, false);
        }
        return out;
    }
}
