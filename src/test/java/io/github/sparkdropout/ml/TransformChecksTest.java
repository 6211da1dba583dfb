package io.github.sparkdropout.ml;

import io.github.sparkdropout.model.MlpShape;
import io.github.sparkdropout.TestData;
import io.github.sparkdropout.TestSpark;
import io.github.sparkdropout.data.DataException;
import io.github.sparkdropout.data.FashionMnist;
import io.github.sparkdropout.data.MnistFrames;
import io.github.sparkdropout.model.DropoutMlp;
import io.github.sparkdropout.model.Variant;
import org.apache.spark.ml.feature.MinMaxScaler;
import org.apache.spark.ml.feature.MinMaxScalerModel;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What {@code transform} does with input {@code fit} would refuse. Features that are not finite fail the transform
 * with one line naming the column, as a wrong vector size does. Features outside [0, 1] are scored, as MLlib's
 * predictors score whatever they get, and flagged in the boolean column {@code featuresOutOfRange}: a test set
 * scaled by a scaler fitted on the training set lies slightly outside [0, 1], and refusing it would break MLlib's
 * own Pipeline and CrossValidator; pixels of 0..255 are flagged on every row. Labels are not looked at (MLlib's
 * transform never reads them).
 */
class TransformChecksTest {
    static final StructType SCHEMA = new StructType().add("label", DataTypes.DoubleType, true)
            .add("features", SQLDataTypes.VectorType(), false);
    static SparkSession spark;
    static DropoutMlpModel model;

    @BeforeAll
    static void anUntrainedModel() {
        spark = TestSpark.get();
        model = DropoutMlpModel.ofJobNetwork("checks", DropoutMlp.create(Variant.CONCISE, 0.5, MlpShape.book(0.2, 0.5), 5));
    }

    static double[] pixels(int position, double value) {
        double[] p = new double[784];
        Arrays.fill(p, 0.25);
        p[position] = value;
        return p;
    }

    static Dataset<Row> frame(Double label, double[]... features) {
        return spark.createDataFrame(Arrays.stream(features).map(f -> RowFactory.create(label, Vectors.dense(f)))
                .toList(), SCHEMA);
    }

    @Test
    void featuresThatAreNotFiniteFailTheTransformWithOneLineNamingTheColumn() {
        for (double bad : new double[]{Double.NaN, Double.NEGATIVE_INFINITY}) {
            Exception e = assertThrows(Exception.class, () -> model.transform(frame(1.0, pixels(0, 0.5),
                    pixels(11, bad))).collectAsList(), "a feature " + bad + " is refused");
            DataException d = dataException(e);
            assertEquals("column 'features' holds " + bad + " at position 11: the features must be finite numbers",
                    d.getMessage());
        }
    }

    static DataException dataException(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof DataException d) {
                return d;
            }
        }
        return fail("no DataException in", e);
    }

    @Test
    void featuresOutsideTheTrainedRangeAreScoredAndFlagged() {
        double[] raw = new double[784];
        for (int j = 0; j < raw.length; j++) {
            raw[j] = j % 256;
        }
        List<Row> rows = model.transform(frame(1.0, pixels(0, 0.0), pixels(0, 1.0), raw, pixels(3, -0.01),
                pixels(3, 1.01))).select("prediction", "featuresOutOfRange").collectAsList();
        assertEquals(List.of(false, false, true, true, true), rows.stream().map(r -> r.getBoolean(1)).toList());
        assertTrue(rows.stream().noneMatch(r -> r.isNullAt(0)), "every row is scored");
    }

    @Test
    void labelsAreNotLookedAt() {
        Dataset<Row> labels = frame(Double.NaN, pixels(0, 0.5)).union(frame(3.7, pixels(0, 0.5)))
                .union(frame(11.0, pixels(0, 0.5))).union(frame(null, pixels(0, 0.5)));
        assertEquals(4, model.transform(labels).where(col("prediction").isNotNull()).count());
    }

    /** Why the range is flagged, not refused: MLlib's own scaling of unseen rows leaves [0, 1]. */
    @Test
    void aTestSetScaledByAScalerFittedOnTheTrainingSetIsScoredAndItsStrayRowsFlagged() {
        var hadoop = spark.sparkContext().hadoopConfiguration();
        Dataset<Row> train = MnistFrames.of(spark, FashionMnist.train(TestData.realData(), 1024, hadoop), 2, 7L);
        Dataset<Row> test = MnistFrames.of(spark, FashionMnist.test(TestData.realData(), 600, hadoop), 2, null);
        MinMaxScalerModel scaler = new MinMaxScaler().setInputCol("features").setOutputCol("scaled").fit(train);
        Dataset<Row> scored = model.copy(new org.apache.spark.ml.param.ParamMap())
                .setFeaturesCol("scaled").transform(scaler.transform(test));
        long flagged = scored.where(col("featuresOutOfRange")).count();
        assertEquals(600, scored.count());
        assertTrue(flagged > 0 && flagged < 600, flagged + " rows flagged");
    }

    @Test
    void theFlagIsAnOutputColumnLikeMllibsOthers() {
        StructType schema = model.transformSchema(SCHEMA);
        assertEquals(List.of("label", "features", "rawPrediction", "probability", "prediction", "featuresOutOfRange"),
                List.of(schema.fieldNames()));
        assertEquals(DataTypes.BooleanType, schema.apply("featuresOutOfRange").dataType());
        DropoutMlpModel without = model.copy(new org.apache.spark.ml.param.ParamMap()).setFeaturesOutOfRangeCol("");
        assertFalse(List.of(without.transform(frame(1.0, pixels(0, 5.0))).columns()).contains("featuresOutOfRange"),
                "an empty name leaves it out, as for MLlib's other output columns");
        assertEquals(schema, model.transform(frame(1.0, pixels(0, 0.5))).schema());
    }
}
