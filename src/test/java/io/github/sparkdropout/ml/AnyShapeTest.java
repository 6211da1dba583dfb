package io.github.sparkdropout.ml;

import io.github.sparkdropout.KernelSensitive;
import io.github.sparkdropout.TestSpark;
import io.github.sparkdropout.data.DataException;
import io.github.sparkdropout.metrics.MetricsTable;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator;
import org.apache.spark.ml.feature.StandardScaler;
import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Estimator beyond Fashion-MNIST: a labelled frame of another shape (12 features on very different scales, dense
 * and sparse rows, three classes named by strings), in MLlib's usual Pipeline (StringIndexer, StandardScaler), with
 * a small {@code layers} and its own {@code dropouts}; and the defaults a frame's shape gives.
 */
@KernelSensitive
class AnyShapeTest {
    static final String[] SPECIES = {"alpha", "beta", "gamma"};

    @TempDir
    static Path dir;
    static SparkSession spark;
    static Dataset<Row> train;
    static Dataset<Row> test;

    /**
     * Rows whose class is the largest of three linear scores of the features (learnable by any MLP), the features
     * scaled by up to 1,000 and shifted, every third row sparse.
     */
    static Dataset<Row> rows(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[][] w = new double[3][12];
        SplittableRandom wr = new SplittableRandom(5);
        for (double[] row : w) {
            for (int j = 0; j < 12; j++) {
                row[j] = wr.nextDouble(-1, 1);
            }
        }
        List<Row> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            double[] z = new double[12];
            double[] x = new double[12];
            for (int j = 0; j < 12; j++) {
                z[j] = j % 5 == 4 && i % 3 == 0 ? 0 : rng.nextGaussian();
                x[j] = z[j] * Math.pow(10, j % 4) + 7 * j;
            }
            int best = 0;
            double[] s = new double[3];
            for (int c = 0; c < 3; c++) {
                for (int j = 0; j < 12; j++) {
                    s[c] += w[c][j] * z[j];
                }
                best = s[c] > s[best] ? c : best;
            }
            Vector v = Vectors.dense(x);
            out.add(RowFactory.create(i, SPECIES[best], i % 3 == 0 ? v.toSparse() : v));
        }
        StructType schema = new StructType().add("id", DataTypes.IntegerType, false)
                .add("species", DataTypes.StringType, false).add("raw", SQLDataTypes.VectorType(), false);
        return spark.createDataFrame(out, schema);
    }

    @BeforeAll
    static void frames() {
        spark = TestSpark.get();
        train = rows(1200, 1).cache();
        test = rows(400, 2).cache();
    }

    static Pipeline pipeline(DropoutMlpClassifier classifier) {
        return new Pipeline().setStages(new PipelineStage[]{
                new StringIndexer().setInputCol("species").setOutputCol("label"),
                new StandardScaler().setWithMean(true).setInputCol("raw").setOutputCol("features"), classifier});
    }

    static double accuracy(Dataset<Row> predictions) {
        return new MulticlassClassificationEvaluator().setMetricName("accuracy").evaluate(predictions);
    }

    @Test
    void aSmallNetworkOfTheFramesShapeTrainsInAPipelineAndRecordsItsShape() throws Exception {
        String metrics = dir.resolve("metrics").toString();
        DropoutMlpClassifier classifier = new DropoutMlpClassifier().setLayers(new int[]{12, 24, 3})
                .setDropouts(new double[]{0.1}).setEpochs(20).setBatchSize(32).setAveragingFrequency(4)
                .setWorkers(2).setLr(0.1).setMetrics(metrics).setRunId("tabular")
                .setValidationIndicatorCol("held_out"); // evaluated each epoch: the classes table's rows
        PipelineModel fitted = pipeline(classifier).fit(train.withColumn("held_out", col("id").mod(5).equalTo(0)));
        Dataset<Row> scored = fitted.transform(test).cache();
        double accuracy = accuracy(scored);
        assertTrue(accuracy > 0.8, "test accuracy " + accuracy + " (chance 0.33-0.5)");
        Row first = scored.select("probability", "rawPrediction").first();
        assertEquals(3, ((Vector) first.get(0)).size());
        assertEquals(3, ((Vector) first.get(1)).size());

        DropoutMlpModel model = (DropoutMlpModel) fitted.stages()[2];
        assertEquals(12, model.numFeatures());
        assertEquals(3, model.numClasses());

        Dataset<Row> epochs = spark.read().parquet(metrics + "/" + MetricsTable.EPOCHS)
                .where(col("run_id").equalTo("tabular")).orderBy("epoch");
        assertEquals(20, epochs.count());
        Row e = epochs.select("layers", "dropouts", "dropout1", "dropout2", "data_source").first();
        assertEquals(List.of(12, 24, 3), e.getList(0));
        assertEquals(List.of(0.1), e.getList(1));
        assertEquals(0.1, e.getDouble(2), "the column of the first hidden layer's probability");
        assertTrue(e.isNullAt(3), "no second hidden layer");
        assertEquals("dataframe", e.getString(4));
        List<String> names = spark.read().parquet(metrics + "/" + MetricsTable.CLASSES)
                .where(col("run_id").equalTo("tabular").and(col("epoch").equalTo(20))).orderBy("label")
                .select("class_name").as(org.apache.spark.sql.Encoders.STRING()).collectAsList();
        List<String> indexed = List.of(((org.apache.spark.ml.feature.StringIndexerModel) fitted.stages()[0])
                .labelsArray()[0]);
        assertEquals(indexed, names, "the label column's names (StringIndexer's), by label");

        // saved and loaded inside the PipelineModel: the same predictions and the same training range
        String saved = dir.resolve("pipeline").toString();
        fitted.write().overwrite().save(saved);
        PipelineModel again = PipelineModel.load(saved);
        DropoutMlpModel loaded = (DropoutMlpModel) again.stages()[2];
        assertEquals(model.trainedRange(), loaded.trainedRange());
        assertEquals(scored.select("id", "prediction", "probability").orderBy("id").collectAsList(),
                again.transform(test).select("id", "prediction", "probability").orderBy("id").collectAsList());
    }

    @Test
    void rowsOutsideTheTrainingRangeAreFlaggedPerFeature() {
        Dataset<Row> indexed = new StringIndexer().setInputCol("species").setOutputCol("label").fit(train)
                .transform(train).withColumnRenamed("raw", "features");
        DropoutMlpModel model = new DropoutMlpClassifier().setLayers(new int[]{12, 8, 3}).setEpochs(1)
                .setWorkers(2).setBatchSize(64).fit(indexed);
        double[] max = model.trainedRange().max();
        double[] min = model.trainedRange().min();
        double[] inside = new double[12];
        double[] above = new double[12];
        for (int j = 0; j < 12; j++) {
            inside[j] = (min[j] + max[j]) / 2;
            above[j] = inside[j];
        }
        above[9] = max[9] + 1; // feature 9 spans about +-3,000: beyond its own largest training value
        StructType schema = new StructType().add("features", SQLDataTypes.VectorType(), false);
        List<Row> flags = model.transform(spark.createDataFrame(List.of(RowFactory.create(Vectors.dense(inside)),
                RowFactory.create(Vectors.dense(above))), schema)).select("featuresOutOfRange").collectAsList();
        assertEquals(List.of(RowFactory.create(false), RowFactory.create(true)), flags);
    }

    @Test
    void unsetLayersAreTheFramesSizesAroundTheBooksHiddenLayers() {
        Dataset<Row> indexed = new StringIndexer().setInputCol("species").setOutputCol("label").fit(train)
                .transform(train).withColumnRenamed("raw", "features");
        DropoutMlpModel model = new DropoutMlpClassifier().setEpochs(1).setWorkers(2).setBatchSize(64).fit(indexed);
        MultiLayerNetwork net = model.network();
        assertEquals(3, net.getnLayers());
        assertEquals(12, net.getLayer(0).getParam("W").size(0), "input: the vectors' size");
        assertEquals(256, net.getLayer(0).getParam("W").size(1));
        assertEquals(256, net.getLayer(1).getParam("W").size(1));
        assertEquals(3, net.getLayer(2).getParam("W").size(1), "output: the label column's classes");
        // with no metadata: max label + 1
        DropoutMlpModel plain = new DropoutMlpClassifier().setEpochs(1).setWorkers(2).setBatchSize(64)
                .fit(indexed.withColumn("label", col("label").plus(1).cast("double")));
        assertEquals(4, plain.numClasses(), "labels 1..3 without metadata: classes 0..3");
    }

    @Test
    void aLabelColumnWhoseMetadataCountsOtherClassesThanTheOutputIsRefused() {
        Dataset<Row> indexed = new StringIndexer().setInputCol("species").setOutputCol("label").fit(train)
                .transform(train).withColumnRenamed("raw", "features");
        DataException e = assertThrows(DataException.class, () -> new DropoutMlpClassifier()
                .setLayers(new int[]{12, 8, 4}).setEpochs(1).setWorkers(2).fit(indexed));
        assertEquals("column 'label' has 3 classes (its metadata) but layers ends with 4: make the output layer the"
                + " number of classes", e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        assertArrayEquals(new int[]{12, 8, 4}, new DropoutMlpClassifier().setLayers(new int[]{12, 8, 4}).getLayers());
    }
}
