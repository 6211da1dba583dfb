package io.github.sparkdropout.job;

import io.github.sparkdropout.Deployments;
import io.github.sparkdropout.KernelSensitive;
import io.github.sparkdropout.RecordingOutput;
import io.github.sparkdropout.TestData;
import io.github.sparkdropout.TestSpark;
import io.github.sparkdropout.checkpoint.RunStore;
import io.github.sparkdropout.config.UsageException;
import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.data.FashionMnist;
import io.github.sparkdropout.data.MnistFrames;
import io.github.sparkdropout.metrics.EpochRecord;
import io.github.sparkdropout.metrics.MetricsTable;
import io.github.sparkdropout.model.ParamVectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A run saves its network after every epoch and at the end; the saved files load with plain DL4J, evaluate to the
 * recorded accuracy, score new images, and continue the run exactly: a run trained 3 epochs and resumed to 5 ends
 * with the same parameters and per-epoch metrics as one trained 5 epochs straight.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@KernelSensitive
class SavedRunsTest {
    @TempDir
    static Path dir;
    static String metrics;
    static MultiLayerNetwork straight;

    static Map<String, String> flags(String runId, int epochs) {
        return new HashMap<>(Map.of("data", TestData.realData(), "metrics", metrics, "train-limit", "2048",
                "test-limit", "600", "epochs", "" + epochs, "run-id", runId, "workers", "2"));
    }

    static RecordingOutput train(String runId, int epochs) {
        RecordingOutput r = new RecordingOutput();
        MultiLayerNetwork net = new TrainJob(TestSpark.get(), r).run(TrainConfig.of(flags(runId, epochs)));
        if (runId.equals("straight")) {
            straight = net;
        }
        return r;
    }

    static List<Row> rows(String runId) {
        return new MetricsTable(TestSpark.get(), metrics).read(MetricsTable.EPOCHS)
                .where(col("run_id").equalTo(runId)).orderBy("epoch")
                .select("epoch", "train_loss", "train_acc", "test_acc", "checkpoint_path", "model_path")
                .collectAsList();
    }

    @BeforeAll
    static void trainAStraightRunAndAShortOne() {
        metrics = dir.resolve("metrics").toString();
        train("straight", 4);
        train("resumed", 2);
    }

    @Test
    @Order(1)
    void everyEpochIsCheckpointedAndTheRowsSayWhere() {
        RunStore store = new RunStore(TestSpark.get().sparkContext().hadoopConfiguration(), metrics);
        assertEquals(4, store.lastCheckpoint("straight").orElse(-1));
        List<Row> rows = rows("straight");
        assertEquals(4, rows.size());
        for (Row r : rows) {
            assertEquals(store.checkpointPath("straight", r.getInt(0)).toString(), r.getString(4));
            assertEquals(store.modelPath("straight").toString(), r.getString(5));
        }
    }

    @Test
    @Order(2)
    void theSavedModelLoadsWithPlainDl4jAndNamesNoClassOfThisProject() throws Exception {
        Path model = Path.of(metrics, "models/straight/model.zip");
        MultiLayerNetwork loaded = MultiLayerNetwork.load(model.toFile(), false);
        assertArrayEquals(ParamVectors.get(straight), ParamVectors.get(loaded), "the final parameters");
        try (ZipFile zip = new ZipFile(model.toFile())) {
            String conf = new String(zip.getInputStream(zip.getEntry("configuration.json")).readAllBytes());
            assertFalse(conf.contains("io.github.sparkdropout"), "the scratch variant's dropout is saved as DL4J's");
            assertTrue(conf.contains("org.deeplearning4j.nn.conf.dropout.Dropout"), conf);
        }
        FashionMnist.Split test = FashionMnist.test(TestData.realData(), 50, new org.apache.hadoop.conf.Configuration());
        var x = io.github.sparkdropout.data.Shards.features(test.pixels(), test.count());
        assertEquals(straight.output(x, false), loaded.output(x, false), "the same predictions");
        for (Path f : List.of(model, Path.of(metrics, "models/straight/checkpoints/epoch-0001.zip"))) {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(f);
            assertFalse(perms.contains(PosixFilePermission.OTHERS_WRITE), f + " is writable by others: " + perms);
        }
    }

    /**
     * Even under a umask that takes nothing away (000) a saved network and its directories are not writable by
     * others.
     */
    @Test
    @Order(2)
    void savedNetworksAreNeverWritableByOthersWhateverTheUmask() throws Exception {
        org.apache.hadoop.conf.Configuration open = new org.apache.hadoop.conf.Configuration();
        open.set("fs.permissions.umask-mode", "000");
        open.setBoolean("fs.file.impl.disable.cache", true); // a filesystem with this umask, not the cached one
        String root = dir.resolve("umask-000").toString();
        new RunStore(open, root).publishModel("open", straight);
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(Path.of(root, "models/open/model.zip"));
        assertTrue(perms.contains(PosixFilePermission.GROUP_WRITE), "the umask 000 applied: " + perms);
        assertFalse(perms.contains(PosixFilePermission.OTHERS_WRITE), "writable by others: " + perms);
        // nor the directories it created, where others could replace the file by a rename
        for (String d : List.of("", "models", "models/_staging", "models/open")) {
            Set<PosixFilePermission> dirPerms = Files.getPosixFilePermissions(Path.of(root, d));
            assertFalse(dirPerms.contains(PosixFilePermission.OTHERS_WRITE), root + "/" + d + ": " + dirPerms);
        }
    }

    @Test
    @Order(3)
    void evaluateGivesExactlyTheRecordedTestAccuracyOfEachEpoch() {
        EvaluateJob job = new EvaluateJob(TestSpark.get());
        for (int epoch : new int[]{1, 4}) {
            EvaluateJob.Result r = job.run(metrics, "straight", epoch, Map.of());
            assertEquals(600, r.eval().examples());
            assertEquals(r.recordedTestAcc(), r.eval().accuracy(), 0.0, "epoch " + epoch);
        }
        assertEquals(4, job.run(metrics, "straight", null, Map.of()).epoch(), "the last epoch by default");
        assertTrue(assertThrows(UsageException.class, () -> job.run(metrics, "straight", 7, Map.of()))
                .getMessage().contains("no checkpoint of epoch 7 (epochs 1-4 are saved)"));
        assertTrue(assertThrows(UsageException.class, () -> job.run(metrics, "nope", null, Map.of()))
                .getMessage().contains("run 'nope' has no saved model"));
    }

    @Test
    @Order(4)
    void aResumedRunEndsExactlyAsAnUninterruptedOne() {
        Map<String, String> more = new HashMap<>(Map.of("epochs", "4", "metrics", metrics));
        RecordingOutput r = new RecordingOutput();
        MultiLayerNetwork resumed = new TrainJob(TestSpark.get(), r).resume("resumed", more);
        assertTrue(r.printed().contains("resuming run resumed after epoch 2"), r.printed());
        assertEquals(List.of(3, 4), r.epochs.stream().map(EpochRecord::epoch).toList(), "only the missing epochs");
        assertArrayEquals(ParamVectors.get(straight), ParamVectors.get(resumed), "bit-identical parameters");
        List<Row> a = rows("straight");
        List<Row> b = rows("resumed");
        assertEquals(4, b.size(), "one row per epoch 1..4");
        for (int i = 0; i < 4; i++) {
            for (int c = 0; c < 4; c++) {
                assertEquals(a.get(i).get(c), b.get(i).get(c), "epoch " + (i + 1) + " column " + c);
            }
        }
        RecordingOutput again = new RecordingOutput();
        new TrainJob(TestSpark.get(), again).resume("resumed", more);
        assertTrue(again.printed().contains("already has its 4 epochs; nothing to train"));
    }

    @Test
    @Order(5)
    void aResumeThatWouldChangeTheResultIsRefused() {
        Map<String, String> lr = new HashMap<>(Map.of("metrics", metrics, "lr", "0.1", "epochs", "6"));
        String msg = assertThrows(UsageException.class, () -> new TrainJob(TestSpark.get(), new RecordingOutput())
                .resume("resumed", lr)).getMessage();
        assertTrue(msg.startsWith("--lr 0.1 differs from run 'resumed' (0.5)"), msg);
        Map<String, String> same = new HashMap<>(Map.of("metrics", metrics, "lr", "0.5", "workers", "2"));
        assertEquals(0.5, TrainConfig.resumed(TrainConfig.of(flags("x", 1)).resolve(Deployments.of(2, 2, 2), "x").toFlags(), same)
                .lr(), "a flag that repeats the recorded value is fine");
    }

    @Test
    @Order(6)
    void rowsPublishedBeforeTheirCheckpointAreReplacedNotDuplicated() throws Exception {
        train("killed", 3);
        // as if the driver died after epoch 3's rows but before its checkpoint and the final model
        Files.delete(Path.of(metrics, "models/killed/checkpoints/epoch-0003.zip"));
        Files.delete(Path.of(metrics, "models/killed/model.zip"));
        // a resume with bad input fails before it touches the table: epoch 3's rows are still there
        assertThrows(io.github.sparkdropout.data.DataException.class, () -> new TrainJob(TestSpark.get(),
                new RecordingOutput()).resume("killed", Map.of("metrics", metrics, "data",
                dir.resolve("nowhere").toString())));
        assertEquals(List.of(1, 2, 3), rows("killed").stream().map(x -> x.getInt(0)).toList());
        RecordingOutput r = new RecordingOutput();
        new TrainJob(TestSpark.get(), r).resume("killed", Map.of("metrics", metrics));
        assertTrue(r.printed().contains("the rows of 1 epoch(s) after epoch 2, published before their checkpoint,"
                + " are replaced"), r.printed());
        List<Row> rows = rows("killed");
        assertEquals(List.of(1, 2, 3), rows.stream().map(x -> x.getInt(0)).toList(), "no duplicate, no gap");
        assertEquals(rows("straight").get(2).getDouble(3), rows.get(2).getDouble(3), 0.0, "epoch 3 trained again");
        assertEquals(30, TestSpark.get().read().parquet(metrics + "/classes").where(col("run_id").equalTo("killed"))
                .count(), "10 class rows per epoch");
    }

    @Test
    @Order(7)
    void predictScoresIdxFilesAndParquetFramesToTheSameRows() throws Exception {
        SparkSession spark = TestSpark.get();
        PredictJob job = new PredictJob(spark);
        String idxOut = metrics + "/predictions/idx";
        PredictJob.Result idx = job.run(metrics, "straight", null, TestData.realData(), "test", 600, idxOut);
        assertEquals(600, idx.rows());
        assertEquals(rows("straight").get(3).getDouble(3), (double) idx.correct() / idx.labelled(), 0.0,
                "the accuracy of the predictions is the recorded test accuracy");

        Path frame = dir.resolve("frame.parquet");
        FashionMnist.Split test = FashionMnist.test(TestData.realData(), 600, spark.sparkContext()
                .hadoopConfiguration());
        MnistFrames.of(spark, test, 3, null).write().parquet(frame.toString());
        PredictJob.Result parquet = job.run(metrics, "straight", null, frame.toString(), "test", 0,
                metrics + "/predictions/frame");
        assertEquals(600, parquet.rows());
        assertEquals(idx.correct(), parquet.correct());

        List<Row> rows = io.github.sparkdropout.cli.SqlAccess.query(spark, metrics,
                "SELECT count(*), count(DISTINCT run_id), min(size(probabilities)), max(abs(aggregate(probabilities,"
                        + " 0D, (a, p) -> a + p) - 1)) FROM predictions");
        assertEquals(1200L, rows.get(0).getLong(0), "view predictions: both outputs under metrics/predictions");
        assertEquals(10, rows.get(0).getInt(2));
        assertTrue(rows.get(0).getDouble(3) < 1e-5, "probabilities sum to 1");
        assertTrue(assertThrows(UsageException.class, () -> job.run(metrics, "straight", null, TestData.realData(),
                "test", 10, idxOut)).getMessage().contains("exists already"), "never overwrites earlier results");
        try (Stream<Path> files = Files.list(Path.of(idxOut))) {
            assertTrue(files.anyMatch(p -> p.toString().endsWith(".parquet")));
        }
    }
}
