package io.github.sparkdropout.cli;

import io.github.sparkdropout.RecordingOutput;
import io.github.sparkdropout.Submit;
import io.github.sparkdropout.TestData;
import io.github.sparkdropout.TestSpark;
import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.job.TrainJob;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ./submit.sh predict} as separate processes: input fit refuses is refused, and two writers of one --out. */
class PredictCommandTest {
    @TempDir
    static Path dir;
    static String metrics;

    @BeforeAll
    static void trainARun() {
        metrics = dir.resolve("metrics").toString();
        new TrainJob(TestSpark.get(), new RecordingOutput()).run(TrainConfig.of(Map.of("data", TestData.realData(),
                "metrics", metrics, "train-limit", "512", "test-limit", "200", "epochs", "1", "run-id", "p",
                "workers", "2")));
    }

    static Submit.Result submit(String... args) throws IOException, InterruptedException {
        return new Submit(dir).env("SPARK_HOME", null).run(args);
    }

    static Submit.Result predict(String data, int limit, String out) throws IOException, InterruptedException {
        return submit("--master", "local[2]", "predict", "--run-id", "p", "--data", data, "--limit", "" + limit,
                "--out", out, "--metrics", metrics);
    }

    @Test
    void aLabelFitWouldRefuseIsOneLineNamingTheRowAndExit2() throws Exception {
        String data = dir.resolve("nan-label").toString();
        double[] pixels = new double[784];
        TestSpark.get().createDataFrame(List.of(RowFactory.create(4.0, Vectors.dense(pixels)),
                        RowFactory.create(Double.NaN, Vectors.dense(pixels))), new StructType()
                        .add("label", DataTypes.DoubleType, true).add("features", SQLDataTypes.VectorType(), false))
                .coalesce(1).write().parquet(data);
        String out = dir.resolve("nan-label-out").toString();
        Submit.Result r = predict(data, 0, out);
        assertEquals(2, r.exit(), r.both());
        List<String> errors = r.err().lines().filter(l -> l.startsWith("error: ")).toList();
        assertEquals(List.of("error: row 1: 'label' is NaN, not a class 0..9 (a null label marks an unlabelled"
                + " image)"), errors, r.err());
        assertFalse(Files.exists(Path.of(out)), "nothing at --out");
    }

    /**
     * Two commands started together on one --out: whichever ends first keeps its predictions there, complete;
     * the other is refused (exit 2) and deletes nothing of them.
     */
    @Test
    void twoPredictsOnOneOutNeverDestroyEachOthersOutput() throws Exception {
        Path parent = dir.resolve("race");
        String out = parent.resolve("same").toString();
        int[] limits = {10000, 100};
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Submit.Result> results = new ArrayList<>();
        try {
            List<Future<Submit.Result>> runs = new ArrayList<>();
            for (int limit : limits) {
                runs.add(pool.submit(() -> predict(TestData.realData(), limit, out)));
            }
            for (Future<Submit.Result> f : runs) {
                results.add(f.get());
            }
        } finally {
            pool.shutdownNow();
            Submit.killDescendants(); // none left when both ended; both, should the test fail while they run
        }
        String both = results.get(0).both() + results.get(1).both();
        List<Integer> winners = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            if (results.get(i).exit() == 0) {
                winners.add(i);
            }
        }
        assertEquals(1, winners.size(), "one of them keeps its predictions: " + both);
        int winner = winners.get(0);
        int rows = limits[winner];
        assertTrue(results.get(winner).out().contains("(" + rows + " rows from run p"), both);
        assertTrue(Files.exists(Path.of(out, "_SUCCESS")), "the winner's output is there, complete: " + both);
        assertEquals(rows, TestSpark.get().read().parquet(out).count(), "and holds its rows only: " + both);
        Submit.Result loser = results.get(1 - winner);
        assertEquals(2, loser.exit(), both);
        assertEquals(1, loser.err().lines().filter(l -> l.startsWith("error: --out ")).count(), both);
        try (Stream<Path> left = Files.list(parent)) {
            assertEquals(List.of("same"), left.map(p -> p.getFileName().toString()).toList(),
                    "no staging directory left behind");
        }
    }
}
