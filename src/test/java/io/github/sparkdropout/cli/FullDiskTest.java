package io.github.sparkdropout.cli;

import io.github.sparkdropout.Submit;
import io.github.sparkdropout.TestData;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ./submit.sh train} writing to a disk that fills up, and to a read-only location: real filesystems, small
 * tmpfs mounts (Hadoop's local filesystem then reports the failed write as {@code FSError}, an Error), mounted by the
 * test where the container allows it (root with CAP_SYS_ADMIN), else skipped.
 */
class FullDiskTest {
    @TempDir
    Path dir;

    private final List<Path> mounts = new ArrayList<>();

    private static Submit.Result submit(Path logs, String... args) throws Exception {
        return new Submit(logs).env("SPARK_HOME", null).run(args);
    }

    private static String[] train(String metrics, String runId, int epochs) {
        return new String[]{"--master", "local[2]", "train", "--data", TestData.realData(), "--train-limit", "2048",
                "--test-limit", "600", "--epochs", Integer.toString(epochs), "--metrics", metrics, "--run-id", runId};
    }

    /** Runs {@code mount args} (the last being the mount point); skips the test where mounting is refused. */
    private void mount(Path at, String... args) throws Exception {
        Files.createDirectories(at);
        List<String> cmd = new ArrayList<>(List.of("mount"));
        cmd.addAll(List.of(args));
        cmd.add(at.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String said = new String(p.getInputStream().readAllBytes());
        Assumptions.assumeTrue(p.waitFor() == 0, "cannot mount a filesystem here (needs root with CAP_SYS_ADMIN): "
                + said);
        mounts.add(0, at);
    }

    private void remount(Path at, String options) throws Exception {
        Process p = new ProcessBuilder("mount", "-o", "remount," + options, at.toString()).inheritIO().start();
        assertEquals(0, p.waitFor(), "remount " + at);
    }

    private void unmountAll() throws Exception {
        for (Path at : mounts) {
            new ProcessBuilder("umount", "-l", at.toString()).inheritIO().start().waitFor();
        }
        mounts.clear();
    }

    /** Writes to {@code dir}'s filesystem until it is full. */
    private static void fill(Path dir) throws IOException {
        try (OutputStream out = Files.newOutputStream(dir.resolve("filler"))) {
            byte[] block = new byte[4096];
            while (true) {
                out.write(block);
            }
        } catch (IOException full) {
            if (!String.valueOf(full.getMessage()).contains("No space left")) {
                throw full;
            }
        }
    }

    private static List<String> files(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            return all.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }

    private static List<String> lines(String text, String prefix) {
        return text.lines().filter(l -> l.startsWith(prefix)).toList();
    }

    @Test
    void aPlotThatDoesNotFitLeavesNoPartialFileAndTheRunIsStillDone() throws Exception {
        String metrics = dir.resolve("metrics").toString();
        Path plots = dir.resolve("metrics/plots");
        try {
            mount(plots, "-t", "tmpfs", "-o", "size=64k", "tmpfs");
            fill(plots);
            Submit.Result r = submit(dir, train(metrics, "plotfull", 2));
            assertEquals(0, r.exit(), "a finished run is not failed by its plot: " + r.both());
            assertTrue(r.out().contains("done: run plotfull, 2 epochs"), r.out());
            assertTrue(lines(r.err(), "error: ").isEmpty(), r.both());
            String png = plots.resolve("plotfull.png").toString();
            List<String> warnings = r.err().lines().filter(l -> l.contains(png)).toList();
            assertEquals(1, warnings.size(), "one line names the plot: " + r.both());
            assertTrue(warnings.get(0).matches(".*No space left on device.*\\./submit\\.sh plot --run-id plotfull"
                    + " --out " + java.util.regex.Pattern.quote(png) + " --metrics "
                    + java.util.regex.Pattern.quote(metrics) + ".*"), warnings.get(0));
            assertEquals(List.of("filler"), files(plots), "no partial PNG, visible or not");
            assertTrue(Files.exists(Path.of(metrics, "models/plotfull/model.zip")), "the model is saved");

            unmountAll();
            Submit.Result again = submit(dir, "plot", "--run-id", "plotfull", "--out", png, "--metrics", metrics);
            assertEquals(0, again.exit(), "the hint draws it: " + again.both());
            assertTrue(Files.size(Path.of(png)) > 1000, "a whole PNG");
        } finally {
            unmountAll();
        }
    }

    @Test
    void aFinalModelThatDoesNotFitEndsWithTheResumeHintAndTheResumeWritesIt() throws Exception {
        String metrics = dir.resolve("metrics").toString();
        Path models = dir.resolve("metrics/models");
        try {
            // a checkpoint of the 784-256-256-10 network is 1.08 MB: two fit in 3 MiB, a third file does not
            mount(models, "-t", "tmpfs", "-o", "size=3m", "tmpfs");
            Submit.Result r = submit(dir, train(metrics, "modelfull", 2));
            assertEquals(1, r.exit(), r.both());
            assertTrue(r.out().contains("\nepoch 2: "), r.out());
            List<String> errors = lines(r.err(), "error: ");
            assertEquals(1, errors.size(), r.both());
            assertTrue(errors.get(0).matches("error: saving the final model of run modelfull failed: .*No space left"
                    + " on device.*; epochs 1-2 are recorded and saved, continue with \\./submit\\.sh train --resume"
                    + " modelfull --metrics " + java.util.regex.Pattern.quote(metrics) + " \\(full trace in \\S+\\)"),
                    errors.get(0));
            assertEquals(List.of("modelfull/checkpoints/epoch-0001.zip", "modelfull/checkpoints/epoch-0002.zip"),
                    files(models).stream().filter(f -> !f.contains("/.")).toList(),
                    "both checkpoints, no partial model, nothing left in staging");

            remount(models, "size=16m");
            Submit.Result resumed = submit(dir, "--master", "local[2]", "train", "--resume", "modelfull",
                    "--metrics", metrics);
            assertEquals(0, resumed.exit(), resumed.both());
            assertTrue(Files.exists(models.resolve("modelfull/model.zip")), resumed.out());
        } finally {
            unmountAll();
        }
    }

    @Test
    void aCheckpointThatDoesNotFitEndsTheRunAtTheNextEpochAndTheResumeReplacesItsRows() throws Exception {
        String metrics = dir.resolve("metrics").toString();
        Path models = dir.resolve("metrics/models");
        try {
            // one checkpoint (1.08 MB) fits in 2 MiB, the second does not
            mount(models, "-t", "tmpfs", "-o", "size=2m", "tmpfs");
            Submit.Result r = submit(dir, train(metrics, "ckptfull", 3));
            assertEquals(1, r.exit(), r.both());
            List<String> errors = lines(r.err(), "error: ");
            assertEquals(1, errors.size(), r.both());
            assertTrue(errors.get(0).matches("error: epoch 3 of run ckptfull failed: cannot publish \\S+/epoch-0002"
                    + "\\.zip: No space left on device; epoch 1 is recorded and saved, continue with \\./submit\\.sh"
                    + " train --resume ckptfull --metrics " + java.util.regex.Pattern.quote(metrics)
                    + " \\(full trace in \\S+\\)"), errors.get(0));
            assertEquals(List.of("ckptfull/checkpoints/epoch-0001.zip"),
                    files(models).stream().filter(f -> !f.contains("/.")).toList(), "no partial checkpoint");

            remount(models, "size=16m");
            Submit.Result resumed = submit(dir, "--master", "local[2]", "train", "--resume", "ckptfull",
                    "--metrics", metrics);
            assertEquals(0, resumed.exit(), resumed.both());
            assertTrue(resumed.out().contains("the rows of 1 epoch(s) after epoch 1, published before their"
                    + " checkpoint, are replaced"), resumed.out());
            Submit.Result rows = submit(dir, "sql", "SELECT count(*) AS n, count(DISTINCT epoch) AS epochs FROM"
                    + " metrics", "--metrics", metrics, "--format", "csv");
            assertEquals("n,epochs\n3,3\n", rows.out(), rows.both());
        } finally {
            unmountAll();
        }
    }

    @Test
    void aReadOnlyMetricsLocationHoldingTablesIsRefusedBeforeTraining() throws Exception {
        Path metrics = dir.resolve("metrics");
        Submit.Result earlier = submit(dir, train(metrics.toString(), "earlier", 1));
        assertEquals(0, earlier.exit(), earlier.both());
        List<String> before = files(metrics);
        try {
            mount(metrics, "--bind", metrics.toString());
            remount(metrics, "bind,ro");
            Submit.Result fresh = submit(dir, train(metrics.toString(), "readonly", 1));
            Submit.Result resumed = submit(dir, "--master", "local[2]", "train", "--resume", "earlier", "--epochs",
                    "2", "--metrics", metrics.toString());
            for (Submit.Result r : List.of(fresh, resumed)) {
                assertEquals(2, r.exit(), r.both());
                assertEquals(List.of("error: " + metrics + ": cannot write the metrics tables there: Read-only file"
                        + " system"), lines(r.err(), "error: "), r.both());
                assertTrue(r.out().lines().noneMatch(l -> l.startsWith("epoch ")), "refused before training: "
                        + r.out());
            }
        } finally {
            unmountAll();
        }
        assertEquals(before, files(metrics), "the earlier run's files are as they were");
    }
}
