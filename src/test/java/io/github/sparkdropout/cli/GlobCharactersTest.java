package io.github.sparkdropout.cli;

import io.github.sparkdropout.RecordingOutput;
import io.github.sparkdropout.TestData;
import io.github.sparkdropout.TestSpark;
import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.config.UsageException;
import io.github.sparkdropout.data.FashionMnist;
import io.github.sparkdropout.data.MnistFrames;
import io.github.sparkdropout.job.EvaluateJob;
import io.github.sparkdropout.job.PredictJob;
import io.github.sparkdropout.job.TrainJob;
import io.github.sparkdropout.metrics.CurvePlot;
import io.github.sparkdropout.metrics.MetricsTable;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Paths are literal: a metrics location and a data directory whose names hold every character of Hadoop's glob
 * syntax ({@code [ ] { } * ?}) work for train, the id check, resume, sql, plot, evaluate and predict, as the
 * commands run them (the same entry points, on the tests' shared session).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GlobCharactersTest {
    private static final String GLOB = "[1]{a,b}*?";
    @TempDir
    static Path dir;
    static String metrics;
    static String data;

    static TrainConfig config(String runId, int epochs) {
        return TrainConfig.of(Map.of("data", data, "metrics", metrics, "train-limit", "2048", "test-limit", "600",
                "epochs", "" + epochs, "run-id", runId, "workers", "2"));
    }

    static List<Integer> epochs(String runId) {
        return SqlCommand.query(TestSpark.get(), metrics, "SELECT epoch FROM metrics WHERE run_id = '" + runId
                + "' ORDER BY epoch").collectAsList().stream().map(r -> r.getInt(0)).toList();
    }

    @BeforeAll
    static void trainARunThere() throws Exception {
        metrics = dir.resolve("m" + GLOB).toString();
        data = Files.createSymbolicLink(dir.resolve("d" + GLOB), Path.of(TestData.realData()).toAbsolutePath())
                .toString();
        assertEquals(0, TrainCommand.train(TestSpark.get(), config("g1", 2), null));
    }

    @Test
    @Order(1)
    void aSecondRunUnderTheSameIdIsRefusedAndTheFirstKept() throws Exception {
        Path model = Path.of(metrics, "models", "g1", "model.zip");
        byte[] before = Files.readAllBytes(model);
        String msg = assertThrows(UsageException.class, () -> TrainCommand.train(TestSpark.get(), config("g1", 2),
                null)).getMessage();
        assertTrue(msg.startsWith("run id 'g1' already has 2 epoch(s) in "), msg);
        assertEquals(List.of(1, 2), epochs("g1"));
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(model)), "model.zip untouched");
    }

    @Test
    @Order(2)
    void sqlAndPlotReadTheRows() throws Exception {
        assertEquals(List.of(1, 2), epochs("g1"));
        assertEquals(20L, SqlCommand.query(TestSpark.get(), metrics, "SELECT count(*) FROM class_metrics")
                .first().getLong(0), "class_metrics: 10 rows per epoch");
        Path png = Path.of(metrics, "plots", "again" + GLOB + ".png");
        assertEquals(3, CurvePlot.write(TestSpark.get(), new MetricsTable(TestSpark.get(), metrics), List.of("g1"),
                png.toString()));
        assertTrue(Files.size(png) > 1000);
    }

    @Test
    @Order(3)
    void evaluateAndPredictFindTheSavedRunAndTheirInput() throws Exception {
        SparkSession spark = TestSpark.get();
        EvaluateJob.Result eval = new EvaluateJob(spark).run(metrics, "g1", null, Map.of());
        assertEquals(2, eval.epoch());
        assertEquals(eval.recordedTestAcc(), eval.eval().accuracy(), 0.0, "the recorded row is found");

        PredictJob job = new PredictJob(spark);
        PredictJob.Result idx = job.run(metrics, "g1", null, data, "test", 200, metrics + "/predictions/idx" + GLOB);
        assertEquals(200, idx.rows());
        String frame = dir.resolve("frame" + GLOB + ".parquet").toString();
        MnistFrames.of(spark, FashionMnist.test(data, 300, spark.sparkContext().hadoopConfiguration()), 2, null)
                .write().parquet(frame);
        PredictJob.Result parquet = job.run(metrics, "g1", null, frame, "test", 0,
                metrics + "/predictions/frame" + GLOB);
        assertEquals(300, parquet.rows());
        Row all = SqlCommand.query(spark, metrics, "SELECT count(*), count(label) FROM predictions").first();
        assertEquals(500L, all.getLong(0), "view predictions: both outputs");
        assertEquals(500L, all.getLong(1), "with their labels");
        assertEquals(300L, SqlCommand.query(spark, metrics, PredictCommand.query(parquet.out())).collectAsList()
                .stream().mapToLong(r -> r.getLong(1)).sum(), "the query predict prints");
    }

    @Test
    @Order(4)
    void aResumeContinuesTheRunThere() {
        RecordingOutput out = new RecordingOutput();
        new TrainJob(TestSpark.get(), out).resume("g1", new HashMap<>(Map.of("metrics", metrics, "epochs", "3")));
        assertTrue(out.printed().contains("resuming run g1 after epoch 2"), out.printed());
        assertEquals(List.of(1, 2, 3), epochs("g1"));
    }
}
