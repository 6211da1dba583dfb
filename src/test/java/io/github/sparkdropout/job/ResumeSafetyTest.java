package io.github.sparkdropout.job;

import io.github.sparkdropout.RecordingOutput;
import io.github.sparkdropout.Submit;
import io.github.sparkdropout.TestData;
import io.github.sparkdropout.TestSpark;
import io.github.sparkdropout.checkpoint.RunStore;
import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.config.UsageException;
import io.github.sparkdropout.data.DataException;
import io.github.sparkdropout.metrics.MetricsTable;
import io.github.sparkdropout.model.ParamVectors;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --resume X} touches run X only and leaves {@code model.zip} the network of X's last checkpoint: a copied
 * run directory is not resumed into the run it was copied from, a stale {@code model.zip} is replaced, a damaged
 * last checkpoint is named with the intact one before it, and the empty id is refused.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ResumeSafetyTest {
    @TempDir
    static Path dir;
    static String metrics;

    static Map<String, String> resumeFlags(int epochs) {
        return new HashMap<>(Map.of("metrics", metrics, "epochs", "" + epochs));
    }

    static List<Integer> epochs(String runId) {
        return new MetricsTable(TestSpark.get(), metrics).read(MetricsTable.EPOCHS).where(col("run_id")
                .equalTo(runId)).orderBy("epoch").select("epoch").collectAsList().stream().map(r -> r.getInt(0))
                .toList();
    }

    /** Every file under {@code root}, by relative path, with its bytes. */
    static Map<String, byte[]> files(Path root) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> all = Files.walk(root)) {
            all.filter(Files::isRegularFile).forEach(f -> {
                try {
                    out.put(root.relativize(f).toString(), Files.readAllBytes(f));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
        return out;
    }

    /** A run's saved networks: its checkpoints and model.zip. */
    static Map<String, byte[]> networks(Path runDir) throws IOException {
        Map<String, byte[]> out = files(runDir.resolve("checkpoints"));
        out.put("model.zip", Files.readAllBytes(runDir.resolve("model.zip")));
        return out;
    }

    static void assertSameFiles(Map<String, byte[]> expected, Map<String, byte[]> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        expected.forEach((name, bytes) -> assertArrayEquals(bytes, actual.get(name), name));
    }

    static RunStore store() {
        return new RunStore(TestSpark.get().sparkContext().hadoopConfiguration(), metrics);
    }

    static float[] modelParams(String runId) throws IOException {
        return ParamVectors.get(MultiLayerNetwork.load(Path.of(metrics, "models", runId, "model.zip").toFile(),
                false));
    }

    @BeforeAll
    static void trainTwoEpochs() {
        metrics = dir.resolve("metrics").toString();
        new TrainJob(TestSpark.get(), new RecordingOutput()).run(TrainConfig.of(Map.of("data", TestData.realData(),
                "metrics", metrics, "train-limit", "2048", "test-limit", "600", "epochs", "2", "run-id", "orig",
                "workers", "2")));
    }

    @Test
    @Order(1)
    void aCopiedRunDirectoryIsRefusedAndTheOriginalLeftAsItWas() throws Exception {
        Path orig = Path.of(metrics, "models", "orig");
        Path fork = Path.of(metrics, "models", "fork");
        Map<String, byte[]> before = networks(orig);
        Map<String, byte[]> tables = files(Path.of(metrics, "epochs"));
        for (Map.Entry<String, byte[]> f : files(orig).entrySet()) { // cp -r models/orig models/fork
            Files.createDirectories(fork.resolve(f.getKey()).getParent());
            Files.write(fork.resolve(f.getKey()), f.getValue());
        }
        String msg = assertThrows(UsageException.class, () -> new TrainJob(TestSpark.get(), new RecordingOutput())
                .resume("fork", resumeFlags(3))).getMessage();
        assertTrue(msg.endsWith("/models/fork/checkpoints/epoch-0002.zip is a checkpoint of run 'orig', not of"
                + " 'fork' (a copied or renamed run directory?): nothing was written; resume 'orig' itself, or"
                + " train a new run"), msg);
        assertSameFiles(before, networks(orig));
        assertSameFiles(before, networks(fork));
        assertSameFiles(tables, files(Path.of(metrics, "epochs")));
        assertEquals(List.of(1, 2), epochs("orig"));
    }

    /** As after a continuation killed after a checkpoint, before its end: model.zip holds an earlier epoch. */
    @Test
    @Order(2)
    void aStaleModelZipIsReplacedByTheLastCheckpointsNetwork() throws Exception {
        Path model = Path.of(metrics, "models", "orig", "model.zip");
        Files.copy(Path.of(metrics, "models", "orig", "checkpoints", "epoch-0001.zip"), model,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        float[] last = ParamVectors.get(store().checkpoint("orig", 2).network());
        assertFalse(Arrays.equals(last, modelParams("orig")), "model.zip is the network of epoch 1 now");

        RecordingOutput r = new RecordingOutput();
        new TrainJob(TestSpark.get(), r).resume("orig", resumeFlags(2));
        assertTrue(r.printed().contains("model.zip of run orig was not the network of its last checkpoint"
                + " (epoch 2): replaced by it"), r.printed());
        assertTrue(r.printed().contains("run orig already has its 2 epochs; nothing to train"), r.printed());
        assertArrayEquals(last, modelParams("orig"), "model.zip = the last checkpoint's network");

        RecordingOutput again = new RecordingOutput();
        byte[] current = Files.readAllBytes(model);
        new TrainJob(TestSpark.get(), again).resume("orig", resumeFlags(2));
        assertFalse(again.printed().contains("was not the network"), again.printed());
        assertArrayEquals(current, Files.readAllBytes(model), "a current model.zip is left as it is");
    }

    @Test
    @Order(3)
    void aDamagedLastCheckpointIsNamedWithTheIntactOneBeforeIt() throws Exception {
        Path checkpoints = Path.of(metrics, "models", "orig", "checkpoints");
        Path last = checkpoints.resolve("epoch-0002.zip");
        byte[] whole = Files.readAllBytes(last);
        Files.write(last, Arrays.copyOf(whole, whole.length / 2)); // truncated
        Map<String, byte[]> before = networks(Path.of(metrics, "models", "orig"));
        Map<String, byte[]> tables = files(Path.of(metrics, "epochs"));
        String expected = "/models/orig/checkpoints/epoch-0002.zip of run 'orig' is unreadable (";
        String intact = "; epoch-0001.zip before it is intact: rename epoch-0002.zip aside (e.g. to"
                + " epoch-0002.zip.damaged) to go on from epoch 1 (--resume then trains the later epochs again)";
        String resume = assertThrows(DataException.class, () -> new TrainJob(TestSpark.get(),
                new RecordingOutput()).resume("orig", resumeFlags(2))).getMessage();
        assertTrue(resume.startsWith("the checkpoint ") && resume.contains(expected) && resume.endsWith(intact)
                && !resume.contains("\n"), resume);
        String evaluate = assertThrows(DataException.class, () -> new EvaluateJob(TestSpark.get()).run(metrics,
                "orig", null, Map.of())).getMessage();
        assertTrue(evaluate.contains(expected) && evaluate.endsWith(intact), evaluate);
        // the local filesystem's checksum finds the damage first; without it the zip itself does
        Files.move(checkpoints.resolve(".epoch-0002.zip.crc"), dir.resolve("epoch-0002.zip.crc"));
        String unchecked = assertThrows(DataException.class, () -> new TrainJob(TestSpark.get(),
                new RecordingOutput()).resume("orig", resumeFlags(2))).getMessage();
        assertTrue(unchecked.contains(expected) && unchecked.endsWith(intact), unchecked);
        Files.move(dir.resolve("epoch-0002.zip.crc"), checkpoints.resolve(".epoch-0002.zip.crc"));
        assertSameFiles(before, networks(Path.of(metrics, "models", "orig")));
        assertSameFiles(tables, files(Path.of(metrics, "epochs")));

        // as the line says, with a plain mv
        Files.move(last, checkpoints.resolve("epoch-0002.zip.damaged"));
        RecordingOutput r = new RecordingOutput();
        new TrainJob(TestSpark.get(), r).resume("orig", resumeFlags(2));
        assertTrue(r.printed().contains("resuming run orig after epoch 1"), r.printed());
        assertEquals(List.of(1, 2), epochs("orig"), "epoch 2's rows replaced, not duplicated");
        assertArrayEquals(ParamVectors.get(store().checkpoint("orig", 2).network()), modelParams("orig"));
    }

    @Test
    void theEmptyRunIdIsRefused() throws Exception {
        String msg = assertThrows(UsageException.class, () -> new TrainJob(TestSpark.get(), new RecordingOutput())
                .resume("", resumeFlags(3))).getMessage();
        assertEquals("--resume needs the id of the run to continue (--resume RUN_ID); it is empty", msg);
        Submit.Result cli = new Submit(dir).env("SPARK_HOME", null).run("train", "--resume", "", "--metrics",
                metrics);
        assertEquals(2, cli.exit(), cli.both());
        assertTrue(cli.err().endsWith("\nerror: " + msg + "\n") || cli.err().equals("error: " + msg + "\n"),
                cli.both());
        assertFalse(cli.both().contains("/checkpoints"), cli.both());
    }
}
