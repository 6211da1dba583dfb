package io.github.sparkdropout.cli;

import io.github.sparkdropout.Submit;
import io.github.sparkdropout.TestData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ./submit.sh} as a user runs it: embedded Spark (no installation), real data subset, exit codes. */
class SubmitScriptTest {
    @TempDir
    static Path dir;
    static String metrics;
    static Submit.Result first;

    /** The embedded path, as on a machine without Spark. */
    static Submit.Result submit(String... args) throws IOException, InterruptedException {
        return new Submit(dir).env("SPARK_HOME", null).run(args);
    }

    @BeforeAll
    static void trainOnce() throws Exception {
        metrics = dir.resolve("metrics").toString();
        first = submit("--master", "local[2]", "train", "--data", TestData.realData(), "--train-limit", "1024",
                "--test-limit", "500", "--epochs", "2", "--metrics", metrics, "--run-id", "sub1");
    }

    @Test
    void trainPrintsTheSeedsEpochLinesAndASummary() {
        assertEquals(0, first.exit(), first.err());
        assertTrue(first.out().matches("(?s).*\nepoch 1: loss \\d\\.\\d{4}, train acc 0\\.\\d{3}, test acc 0\\.\\d{3} "
                + "\\(train .*\nepoch 2: loss .*"), first.out());
        assertTrue(first.out().contains("done: run sub1, 2 epochs"), first.out());
        assertTrue(first.out().contains("plot: "), "the run's curves are drawn: " + first.out());
    }

    /** Local mode starts from a class-data sharing archive of this build, made by the first run. */
    @Test
    void localModeLoadsSparkAndTheJobFromTheClassDataSharingArchive() throws Exception {
        Path archive = Path.of("target/cds/app.jsa");
        assertTrue(Files.exists(archive), "the first run made the archive");
        Path loaded = dir.resolve("class-load.txt");
        Submit.Result r = submit("--driver-java-options", "-Xlog:class+load=info:file=" + loaded, "sql",
                "SELECT count(*) AS n FROM metrics", "--metrics", metrics, "--format", "csv");
        assertEquals(0, r.exit(), r.both());
        String log = Files.readString(loaded);
        assertTrue(log.contains("org.apache.spark.SparkContext source: shared objects file (top)"),
                "Spark's classes come from the archive");
        assertTrue(log.contains("io.github.sparkdropout.cli.Main source: shared objects file (top)"),
                "and the job's");
    }

    @Test
    void evaluateAndPredictUseTheSavedModel() throws Exception {
        Submit.Result eval = submit("--master", "local[2]", "evaluate", "--run-id", "sub1", "--metrics", metrics);
        assertEquals(0, eval.exit(), eval.both());
        assertTrue(eval.out().matches("(?s)run sub1, epoch 2, data \\S+: test acc 0\\.\\d{4} on 500 examples"
                + " \\(recorded in training: 0\\.\\d{4}, equal\\).*"), eval.out());
        String out = metrics + "/predictions/sub1";
        Submit.Result predict = submit("--master", "local[2]", "predict", "--run-id", "sub1", "--data",
                TestData.realData(), "--limit", "200", "--out", out, "--metrics", metrics);
        assertEquals(0, predict.exit(), predict.both());
        assertTrue(predict.out().contains("(200 rows from run sub1, epoch 2; 200 labelled, accuracy 0."),
                predict.out());
        Submit.Result rows = submit("sql", "SELECT count(*) AS n, min(index) AS first, max(index) AS last FROM"
                + " predictions WHERE label_name IS NOT NULL", "--metrics", metrics, "--format", "csv");
        assertEquals("n,first,last\n200,0,199\n", rows.out(), rows.both());
        Submit.Result again = submit("--master", "local[2]", "predict", "--run-id", "sub1", "--data",
                TestData.realData(), "--limit", "10", "--out", out, "--metrics", metrics);
        assertEquals(2, again.exit(), "an existing --out is refused: " + again.both());

        // bad input found only on the executors (vectors of 783 values) is still bad input: one line, exit 2,
        // and no half-written --out left to block the next try
        String shortVectors = dir.resolve("short-vectors").toString();
        io.github.sparkdropout.TestSpark.get().createDataFrame(List.of(org.apache.spark.sql.RowFactory.create(1.0,
                org.apache.spark.ml.linalg.Vectors.dense(new double[783]))), io.github.sparkdropout.data.MnistFrames
                .SCHEMA).write().parquet(shortVectors);
        String badOut = metrics + "/predictions/bad";
        Submit.Result bad = submit("--master", "local[2]", "predict", "--run-id", "sub1", "--data", shortVectors,
                "--out", badOut, "--metrics", metrics);
        assertEquals(2, bad.exit(), bad.both());
        List<String> errors = bad.err().lines().filter(l -> l.startsWith("error: ")).toList();
        assertEquals(1, errors.size(), bad.err());
        assertTrue(errors.get(0).contains("'features' must be a vector of 784 values, got 783"), errors.get(0));
        assertFalse(Files.exists(Path.of(badOut)), "nothing left at --out");
    }

    @Test
    void sqlSeesTheRowsInCsv() throws Exception {
        Submit.Result r = submit("sql", "SELECT run_id, count(*) AS epochs FROM metrics GROUP BY run_id", "--metrics",
                metrics, "--format", "csv");
        assertEquals(0, r.exit(), r.err());
        assertEquals("run_id,epochs\nsub1,2\n", r.out());
    }

    @Test
    void badInputIsAOneLineErrorWithExitCode2AndKeepsEarlierResults() throws Exception {
        Submit.Result dropout = submit("train", "--dropouts", "0.2,1.5", "--metrics", metrics);
        assertEquals(2, dropout.exit());
        assertEquals("error: --dropouts 0.2,1.5 is out of range: expected auto or numbers in [0.0, 1.0],"
                + " comma-separated\n", dropout.err());
        Submit.Result shape = submit("train", "--layers", "30,16,2", "--metrics", metrics);
        assertEquals(2, shape.exit());
        assertEquals("error: --layers 30,16,2 does not fit Fashion-MNIST: it must start with 784 (28 x 28 pixels) and"
                + " end with 10 (classes); only the hidden sizes between are yours to choose\n", shape.err());

        Path bad = TestData.fashionLike(dir.resolve("bad"), 20, 10);
        Files.write(bad.resolve("t10k-labels-idx1-ubyte.gz"), new byte[]{0x1f, (byte) 0x8b, 8, 0, 0});
        Submit.Result corrupt = submit("--master", "local[2]", "train", "--data", bad.toString(), "--metrics", metrics,
                "--run-id", "bad1");
        assertEquals(2, corrupt.exit(), corrupt.err());
        List<String> errorLines = corrupt.err().lines().filter(l -> l.startsWith("error: ")).toList();
        assertEquals(1, errorLines.size(), corrupt.err());
        assertTrue(errorLines.get(0).contains("t10k-labels-idx1-ubyte.gz"), errorLines.get(0));

        Submit.Result again = submit("--master", "local[2]", "train", "--data", TestData.realData(), "--metrics", metrics,
                "--run-id", "sub1", "--train-limit", "256", "--epochs", "1");
        assertEquals(2, again.exit());
        assertTrue(again.err().contains("error: run id 'sub1' already has 2 epoch(s)"), again.err());

        Submit.Result rows = submit("sql", "SELECT count(*) AS n FROM metrics", "--metrics", metrics, "--format", "csv");
        assertEquals("n\n2\n", rows.out(), "the earlier run's rows are intact");
    }

    @Test
    void aFailureThatIsNotBadInputIsOneLineWithItsTraceInALogAndTheRunResumes() throws Exception {
        String table = dir.resolve("failing").toString();
        // worker 0 fails in epoch 2; local mode tries a task once
        Submit.Result failed = submit("--master", "local[2]", "--conf", "spark.sparkdropout.test.failWorker=1:0:0:2",
                "train", "--data", TestData.realData(), "--train-limit", "1024", "--test-limit", "500", "--epochs",
                "2", "--metrics", table, "--run-id", "failing");
        assertEquals(1, failed.exit(), failed.both());
        List<String> last = failed.err().lines().toList();
        String line = last.get(last.size() - 1);
        assertTrue(line.matches("error: epoch 2 of run failing failed: .*failure injected by a test.*; epoch 1 is"
                + " recorded and saved, continue with \\./submit\\.sh train --resume failing --metrics \\S+ \\(full"
                + " trace in (\\S+\\.log)\\)"), line);
        Path log = Path.of(line.replaceAll(".*full trace in (\\S+)\\)$", "$1"));
        assertTrue(Files.readString(log).contains("\tat "), "the stack trace is in " + log);
        assertTrue(failed.err().lines().noneMatch(l -> l.startsWith("\tat ")), "and not on the terminal: "
                + failed.err());

        Submit.Result resumed = submit("--master", "local[2]", "train", "--resume", "failing", "--metrics", table);
        assertEquals(0, resumed.exit(), resumed.both());
        assertTrue(resumed.out().contains("done: run failing, 2 epochs"), resumed.out());
    }

    @Test
    void twoRunsAppendingToOneTableAtOnceBothKeepAllTheirRows() throws Exception {
        String shared = dir.resolve("shared-metrics").toString();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            List<java.util.concurrent.Future<Submit.Result>> runs = new ArrayList<>();
            for (String id : new String[]{"concurrent-a", "concurrent-b"}) {
                runs.add(pool.submit(() -> submit("--master", "local[1]", "train", "--data", TestData.realData(),
                        "--train-limit", "512", "--test-limit", "200", "--epochs", "3", "--workers", "1",
                        "--metrics", shared, "--run-id", id)));
            }
            for (java.util.concurrent.Future<Submit.Result> f : runs) {
                Submit.Result r = f.get();
                assertEquals(0, r.exit(), r.err());
            }
        } finally {
            pool.shutdown();
        }
        Submit.Result rows = submit("sql", "SELECT run_id, count(*) AS epochs FROM metrics GROUP BY run_id ORDER BY run_id",
                "--metrics", shared, "--format", "csv");
        assertEquals("run_id,epochs\nconcurrent-a,3\nconcurrent-b,3\n", rows.out(), rows.err());
        Submit.Result classes = submit("sql", "SELECT count(*) AS n FROM class_metrics", "--metrics", shared, "--format",
                "csv");
        assertEquals("n\n60\n", classes.out(), "2 runs x 3 epochs x 10 classes");
    }

    @Test
    void dropoutDemoPrintsTheSeedsFirstListing() throws Exception {
        Submit.Result r = submit("dropout-demo");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("dropout_layer(X, 0.0)\n[[  0.0,  1.0,  2.0,"), r.out());
        assertTrue(r.out().contains("dropout_layer(X, 1.0)\n[[  0.0,  0.0,  0.0,"), r.out());
        assertTrue(r.out().contains("1/q"), r.out());
    }
}
