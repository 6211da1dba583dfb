package io.github.sparkdropout.ml;

import io.github.sparkdropout.KernelSensitive;
import io.github.sparkdropout.RecordingOutput;
import io.github.sparkdropout.TestData;
import io.github.sparkdropout.TestSpark;
import io.github.sparkdropout.config.UsageException;
import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.data.DataException;
import io.github.sparkdropout.data.FashionMnist;
import io.github.sparkdropout.data.MnistFrames;
import io.github.sparkdropout.job.EvaluateJob;
import io.github.sparkdropout.job.TrainJob;
import io.github.sparkdropout.metrics.MetricsTable;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator;
import org.apache.spark.ml.feature.MinMaxScaler;
import org.apache.spark.ml.linalg.DenseVector;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.tuning.CrossValidator;
import org.apache.spark.ml.tuning.CrossValidatorModel;
import org.apache.spark.ml.tuning.ParamGridBuilder;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Estimator and its Model as MLlib citizens, on real Fashion-MNIST subsets: a fit records its epochs as the job
 * does, transform adds MLlib's three output columns, MLlib's evaluator agrees with the job's own evaluation, saved
 * models (Spark ML's format and the job's DL4J zip) load to identical predictions, a Pipeline and a CrossValidator
 * run, and bad frames and settings fail before training with one line.
 */
@KernelSensitive
class DropoutMlpClassifierTest {
    @TempDir
    static Path dir;
    static SparkSession spark;
    static Dataset<Row> train;
    static Dataset<Row> test;

    @BeforeAll
    static void frames() {
        spark = TestSpark.get();
        var hadoop = spark.sparkContext().hadoopConfiguration();
        train = MnistFrames.of(spark, FashionMnist.train(TestData.realData(), 2048, hadoop), 2, 7L).cache();
        test = MnistFrames.of(spark, FashionMnist.test(TestData.realData(), 600, hadoop), 2, null).cache();
    }

    static double accuracy(Dataset<Row> predictions) {
        return new MulticlassClassificationEvaluator().setMetricName("accuracy").evaluate(predictions);
    }

    @Test
    void aFitRecordsItsEpochsAsTheJobDoesAndTransformAddsMllibsColumns() throws Exception {
        String metrics = dir.resolve("fit-metrics").toString();
        Dataset<Row> frame = train.withColumn("held_out", lit(false)).union(test.withColumn("held_out", lit(true)));
        DropoutMlpModel model = new DropoutMlpClassifier().setEpochs(2).setWorkers(2).setMetrics(metrics)
                .setRunId("estimator").setValidationIndicatorCol("held_out").fit(frame);

        List<Row> rows = new MetricsTable(spark, metrics).read(MetricsTable.EPOCHS)
                .where(col("run_id").equalTo("estimator")).orderBy("epoch")
                .select("epoch", "test_acc", "train_examples", "test_examples", "data_source", "workers",
                        "checkpoint_path", "model_path").collectAsList();
        assertEquals(2, rows.size());
        assertEquals(List.of(1, 2), rows.stream().map(r -> r.getInt(0)).toList());
        assertEquals(2048, rows.get(1).getInt(2));
        assertEquals(600, rows.get(1).getInt(3));
        assertEquals("dataframe", rows.get(1).getString(4));
        assertEquals(2, rows.get(1).getInt(5));
        assertTrue(Files.exists(Path.of(rows.get(1).getString(6))), rows.get(1).getString(6));
        assertTrue(Files.exists(Path.of(rows.get(1).getString(7))), rows.get(1).getString(7));

        Dataset<Row> predicted = model.transform(test);
        assertEquals(List.of("label", "features", "rawPrediction", "probability", "prediction", "featuresOutOfRange"),
                List.of(predicted.columns()));
        // the recorded test accuracy of the last epoch is MLlib's accuracy of the returned model on those rows
        assertEquals(rows.get(1).getDouble(1), accuracy(predicted), 1e-12);
        assertTrue(accuracy(predicted) > 0.4, "accuracy " + accuracy(predicted)); // 16 steps; chance is 0.1
        for (Row r : predicted.select("rawPrediction", "probability", "prediction").limit(20).collectAsList()) {
            double[] logits = ((Vector) r.get(0)).toArray();
            double[] p = ((Vector) r.get(1)).toArray();
            assertEquals(10, p.length);
            double max = java.util.Arrays.stream(logits).max().orElseThrow();
            double sum = java.util.Arrays.stream(logits).map(z -> Math.exp(z - max)).sum();
            for (int c = 0; c < 10; c++) { // softmax(rawPrediction) = probability
                assertEquals(Math.exp(logits[c] - max) / sum, p[c], 1e-5);
            }
            assertEquals(((Vector) r.get(1)).argmax(), (int) r.getDouble(2));
        }
    }

    /**
     * A frame whose own partitioning leaves a worker without rows (two partitions, one empty, two workers) still
     * fits: that worker trains nothing, the other all (before, the empty partition's null shard failed epoch 1).
     */
    @Test
    void aFrameWithAnEmptyPartitionStillFits() {
        Dataset<Row> frame = train.repartition(2).where(org.apache.spark.sql.functions.spark_partition_id()
                .equalTo(0));
        assertEquals(2, frame.javaRDD().getNumPartitions());
        assertEquals(0, frame.javaRDD().mapPartitions(it -> List.of(it.hasNext() ? 1 : 0).iterator()).collect()
                .stream().mapToInt(Integer::intValue).min().orElseThrow(), "one partition is empty");
        long rows = frame.count();
        String metrics = dir.resolve("uneven-metrics").toString();
        DropoutMlpModel model = new DropoutMlpClassifier().setEpochs(1).setWorkers(2).setMetrics(metrics)
                .setRunId("uneven").fit(frame);
        Row row = new MetricsTable(spark, metrics).read(MetricsTable.EPOCHS).where(col("run_id").equalTo("uneven"))
                .select("train_examples").first();
        assertEquals(rows, row.getInt(0));
        assertTrue(accuracy(model.transform(test)) > 0.2, "it trained"); // chance is 0.1
    }

    @Test
    void mllibsEvaluatorAgreesWithTheJobsEvaluationOfAModelTheJobSaved() {
        String metrics = dir.resolve("job-metrics").toString();
        new TrainJob(spark, new RecordingOutput()).run(TrainConfig.of(Map.of("data", TestData.realData(),
                "metrics", metrics, "train-limit", "2048", "test-limit", "600", "epochs", "2", "run-id", "job",
                "workers", "2")));
        EvaluateJob.Result job = new EvaluateJob(spark).run(metrics, "job", null, Map.of());

        DropoutMlpModel model = DropoutMlpModel.load(metrics + "/models/job/model.zip");
        double mllib = accuracy(model.transform(test));
        assertEquals(job.eval().accuracy(), mllib, 1e-12);
        assertEquals(job.recordedTestAcc(), mllib, 1e-12);
    }

    @Test
    void aSavedModelAndAPipelineRoundTripToIdenticalPredictions() throws Exception {
        DropoutMlpClassifier classifier = new DropoutMlpClassifier().setEpochs(1).setWorkers(2)
                .setFeaturesCol("scaled");
        Pipeline pipeline = new Pipeline().setStages(new PipelineStage[]{
                new MinMaxScaler().setInputCol("features").setOutputCol("scaled"), classifier});
        PipelineModel fitted = pipeline.fit(train);
        String path = dir.resolve("pipeline").toString();
        fitted.write().save(path);
        PipelineModel loaded = PipelineModel.load(path);
        assertEquals(predictions(fitted.transform(test)), predictions(loaded.transform(test)));

        DropoutMlpModel model = (DropoutMlpModel) fitted.stages()[1];
        model.write().save(dir.resolve("model").toString());
        DropoutMlpModel again = DropoutMlpModel.load(dir.resolve("model").toString());
        assertEquals("scaled", again.getOrDefault(again.featuresCol()));
        assertEquals(predictions(fitted.transform(test)), predictions(again.transform(new MinMaxScaler()
                .setInputCol("features").setOutputCol("scaled").fit(train).transform(test))));
        // inside: the job's own DL4J file
        assertTrue(Files.exists(dir.resolve("model/data/network.zip")));
        assertEquals(predictions(again.transform(test.withColumnRenamed("features", "scaled"))
                        .drop("scaled")),
                predictions(DropoutMlpModel.load(dir.resolve("model/data/network.zip").toString())
                        .transform(test).drop("features")));
        // the estimator's settings persist too
        classifier.write().save(dir.resolve("estimator").toString());
        DropoutMlpClassifier read = DropoutMlpClassifier.load(dir.resolve("estimator").toString());
        assertEquals(1, read.getEpochs());
        assertEquals("scaled", read.getFeaturesCol());
    }

    /** Every row's prediction and probabilities, in row order. */
    static List<String> predictions(Dataset<Row> frame) {
        return frame.select("prediction", "probability").collectAsList().stream()
                .map(r -> r.getDouble(0) + " " + java.util.Arrays.toString(((DenseVector) r.get(1)).values()))
                .toList();
    }

    @Test
    void aCrossValidatorTriesTwoDropoutValues() {
        DropoutMlpClassifier classifier = new DropoutMlpClassifier().setEpochs(3).setWorkers(2).setBatchSize(64)
                .setAveragingFrequency(4);
        ParamMap[] grid = { // the grid as ParamGridBuilder builds it (its array-param overloads take Scala collections)
                new ParamMap().put(classifier.dropouts(), new double[]{0.2, 0.5}),
                new ParamMap().put(classifier.dropouts(), new double[]{0.5, 0.5})};
        CrossValidatorModel cv = new CrossValidator().setEstimator(classifier).setEstimatorParamMaps(grid)
                .setEvaluator(new MulticlassClassificationEvaluator().setMetricName("accuracy")).setNumFolds(2)
                .setSeed(3).fit(train);
        assertEquals(2, cv.avgMetrics().length);
        for (double m : cv.avgMetrics()) { // 48 steps on 1,024 examples per fold; chance is 0.1
            assertTrue(m > 0.4 && m <= 1, "accuracy " + m);
        }
        assertInstanceOf(DropoutMlpModel.class, cv.bestModel());
        assertTrue(accuracy(cv.transform(test)) > 0.4);
    }

    @Test
    void settingsAreTheCommandLinesDeclarations() {
        DropoutMlpClassifier c = new DropoutMlpClassifier();
        Map<String, String> defaults = TrainConfig.defaults();
        assertEquals(Integer.parseInt(defaults.get("epochs")), c.getEpochs());
        assertEquals(Integer.parseInt(defaults.get("batch-size")), c.getBatchSize());
        assertFalse(c.hasDefault(c.layers()), "the frame gives the input and output sizes");
        assertFalse(c.hasDefault(c.dropouts()), "unset: the rule for the depth (0.2, then 0.5)");
        assertEquals(defaults.get("variant"), c.getVariant());
        assertTrue(c.explainParams().contains("averagingFrequency: minibatch steps each worker takes"),
                c.explainParams());
        assertThrows(IllegalArgumentException.class, () -> c.setDropouts(new double[]{0.2, 1.5}));
        assertThrows(IllegalArgumentException.class, () -> c.setLayers(new int[]{30, 2}));
        assertThrows(IllegalArgumentException.class, () -> c.setEpochs(0));
        assertThrows(IllegalArgumentException.class, () -> c.setVariant("bogus"));
        UsageException e = assertThrows(UsageException.class, () -> new DropoutMlpClassifier()
                .setTrainingMaster("stock").setStep("lean").fit(train));
        assertTrue(e.getMessage().startsWith("step applies to trainingMaster resident only"), e.getMessage());
        e = assertThrows(UsageException.class, () -> new DropoutMlpClassifier().setWorkers(3).fit(train));
        assertTrue(e.getMessage().startsWith("batchSize 256 does not split evenly over 3 workers"), e.getMessage());
    }

    @Test
    void badFramesFailBeforeTrainingWithOneLineNamingTheColumn() {
        StructType schema = new StructType().add("label", DataTypes.DoubleType, true)
                .add("features", org.apache.spark.ml.linalg.SQLDataTypes.VectorType(), true);
        double[] ok = new double[784];
        assertBad("column 'label' has 1 value(s) that are not a class 0..9 in the training frame (e.g. 10.0; layers"
                + " ends with 10)", () -> new DropoutMlpClassifier().setWorkers(2).setEpochs(1)
                .setLayers(new int[]{784, 16, 10}).fit(frame(schema, RowFactory.create(1.0, Vectors.dense(ok)),
                        RowFactory.create(10.0, Vectors.dense(ok)))));
        assertBad("column 'label' has 1 value(s) that are not a class 0..2", frame(schema,
                RowFactory.create(2.0, Vectors.dense(ok)), RowFactory.create(1.5, Vectors.dense(ok))));
        assertBad("column 'label' has 1 value(s) that are not a class 0..2", frame(schema,
                RowFactory.create(2.0, Vectors.dense(ok)), RowFactory.create(-1.0, Vectors.dense(ok))));
        assertBad("column 'label' holds 2.5: labels must be class indices 0, 1, 2, ...", frame(schema,
                RowFactory.create(1.0, Vectors.dense(ok)), RowFactory.create(2.5, Vectors.dense(ok))));
        assertBad("column 'label' has 1 class: a classifier needs at least 2", frame(schema,
                RowFactory.create(0.0, Vectors.dense(ok)), RowFactory.create(0.0, Vectors.dense(ok))));
        assertBad("column 'features' holds 1 vector(s) of 783 values", frame(schema,
                RowFactory.create(1.0, Vectors.dense(ok)), RowFactory.create(2.0, Vectors.dense(new double[783]))));
        assertBad("column 'label' has 1 null value(s)", frame(schema,
                RowFactory.create(1.0, Vectors.dense(ok)), RowFactory.create(null, Vectors.dense(ok))));
        assertBad("column 'features' has 1 null value(s)", frame(schema,
                RowFactory.create(1.0, Vectors.dense(ok)), RowFactory.create(2.0, null)));
        double[] nan = new double[784];
        nan[3] = Double.NaN;
        assertBad("column 'features' has 1 row(s) with NaN or infinite values in the training frame", frame(schema,
                RowFactory.create(1.0, Vectors.dense(ok)), RowFactory.create(2.0, Vectors.dense(nan))));
        assertBad("column 'features' holds 2 vector(s) of 784 values (e.g.) in the training frame: the network takes"
                + " 30 (layers starts with 30)", () -> new DropoutMlpClassifier().setWorkers(2).setEpochs(1)
                .setLayers(new int[]{30, 8, 3}).fit(frame(schema, RowFactory.create(1.0, Vectors.dense(ok)),
                        RowFactory.create(2.0, Vectors.dense(ok)))));
        assertBad("the training frame has 1 row(s) for 2 workers", frame(schema,
                RowFactory.create(1.0, Vectors.dense(ok))));
        assertBad("column 'pixels' not found; the frame has: label, features",
                () -> new DropoutMlpClassifier().setFeaturesCol("pixels").fit(train));
        assertBad("column 'label' is string, not a number", () -> new DropoutMlpClassifier().setWorkers(2)
                .fit(train.withColumn("label", col("label").cast("string"))));
        assertBad("column 'held_out' is int, not a boolean", () -> new DropoutMlpClassifier()
                .setValidationIndicatorCol("held_out").fit(train.withColumn("held_out", lit(1))));
    }

    private static Dataset<Row> frame(StructType schema, Row... rows) {
        return spark.createDataFrame(List.of(rows), schema);
    }

    private static void assertBad(String expected, Dataset<Row> frame) {
        assertBad(expected, () -> new DropoutMlpClassifier().setWorkers(2).setEpochs(1).fit(frame));
    }

    private static void assertBad(String expected, org.junit.jupiter.api.function.Executable fit) {
        DataException e = assertThrows(DataException.class, fit);
        assertTrue(e.getMessage().startsWith(expected), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }
}
