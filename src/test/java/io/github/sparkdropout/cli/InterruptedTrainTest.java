package io.github.sparkdropout.cli;

import io.github.sparkdropout.Submit;
import io.github.sparkdropout.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ./submit.sh train} stopped by a signal in the middle of a run, as a user does it: Ctrl-C (SIGINT to the
 * whole process group, as a terminal sends it) and {@code kill} (SIGTERM to the driver). The run says in one line
 * what is kept and how to continue, exits 128 + the signal's number, leaves every row with its checkpoint and no
 * partial file, and {@code --resume} then completes it with one row per epoch.
 */
class InterruptedTrainTest {
    @TempDir
    static Path dir;

    @Test
    void ctrlCSaysWhatIsKeptExits130AndTheRunResumes() throws Exception {
        interruptAndResume("ctrl-c", "INT", true, 130);
    }

    @Test
    void sigtermSaysWhatIsKeptExits143AndTheRunResumes() throws Exception {
        interruptAndResume("sigterm", "TERM", false, 143);
    }

    private static void interruptAndResume(String runId, String signal, boolean wholeGroup, int exitCode)
            throws Exception {
        String metrics = dir.resolve("metrics-" + runId).toString();
        Path out = dir.resolve(runId + ".out");
        Path err = dir.resolve(runId + ".err");
        // its own session and process group (setsid), so that a signal to the group reaches only what it started;
        // submit.sh execs the driver JVM, so this process is the driver. With the signal's default disposition, as
        // in a user's terminal: a harness that started the tests in the background without job control leaves
        // SIGINT ignored, which every child inherits (and a JVM then keeps it ignored)
        ProcessBuilder pb = new ProcessBuilder("setsid", "env", "--default-signal=" + signal, "./submit.sh",
                "--master", "local[2]", "train", "--data",
                TestData.realData(), "--train-limit", "2048", "--test-limit", "600", "--epochs", "30", "--metrics",
                metrics, "--run-id", runId).redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().remove("SPARK_HOME");
        Process driver = pb.start();
        try {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while (!Files.readString(out).contains("\nepoch 1: ") && driver.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(driver.isAlive(), "epoch 1 recorded, the run under way: " + Files.readString(out)
                    + Files.readString(err));
            String target = wholeGroup ? "-" + driver.pid() : Long.toString(driver.pid());
            assertEquals(0, new ProcessBuilder("kill", "-" + signal, "--", target).inheritIO().start().waitFor());
            assertTrue(driver.waitFor(2, TimeUnit.MINUTES), "the driver stops");
        } finally {
            driver.descendants().forEach(ProcessHandle::destroyForcibly);
            driver.destroyForcibly();
        }
        String stdout = Files.readString(out);
        String stderr = Files.readString(err);
        String both = "--- stdout\n" + stdout + "--- stderr\n" + stderr;
        assertEquals(exitCode, driver.exitValue(), both);
        List<String> lines = stderr.lines().filter(l -> l.startsWith("interrupted: ")).toList();
        assertEquals(1, lines.size(), "one line says what is kept: " + both);
        assertTrue(stderr.lines().noneMatch(l -> l.startsWith("error: ")), "and no error line: " + both);
        Matcher m = Pattern.compile("interrupted: run " + runId + " stopped during epoch (\\d+); epochs? 1(?:-(\\d+))?"
                + " (?:is|are) recorded and saved, continue with \\./submit\\.sh train --resume " + runId
                + " --metrics " + Pattern.quote(metrics)).matcher(lines.get(0));
        assertTrue(m.matches(), lines.get(0));
        int stoppedIn = Integer.parseInt(m.group(1));
        int kept = m.group(2) == null ? 1 : Integer.parseInt(m.group(2));
        assertEquals(stoppedIn - 1, kept, "every epoch before the abandoned one is kept: " + lines.get(0));
        assertFalse(stdout.contains("\nepoch " + stoppedIn + ": "), "the abandoned epoch was not reported done");

        // rows and checkpoints agree, every published file is whole, nothing half-written is visible
        Path models = Path.of(metrics, "models", runId);
        assertEquals(epochFiles(kept, "epoch-%04d.zip"), names(models.resolve("checkpoints")));
        for (int e = 1; e <= kept; e++) {
            try (ZipFile zip = new ZipFile(models.resolve(String.format("checkpoints/epoch-%04d.zip", e)).toFile())) {
                assertTrue(zip.getEntry("coefficients.bin") != null, "a whole checkpoint");
            }
        }
        assertFalse(Files.exists(models.resolve("model.zip")), "no final model for an unfinished run");
        for (String table : new String[]{"epochs", "classes"}) {
            assertEquals(epochFiles(kept, runId + "-epoch-%04d.parquet"), names(Path.of(metrics, table)), table);
        }

        Submit.Result resumed = new Submit(dir).env("SPARK_HOME", null).run("--master", "local[2]", "train",
                "--resume", runId, "--metrics", metrics, "--epochs", Integer.toString(kept + 1));
        assertEquals(0, resumed.exit(), resumed.both());
        assertTrue(resumed.out().contains("done: run " + runId + ", " + (kept + 1) + " epochs"), resumed.out());
        Submit.Result rows = new Submit(dir).run("sql", "SELECT count(*) AS n, count(DISTINCT epoch) AS epochs,"
                + " max(epoch) AS last FROM metrics WHERE run_id = '" + runId + "'", "--metrics", metrics, "--format",
                "csv");
        int n = kept + 1;
        assertEquals("n,epochs,last\n" + n + "," + n + "," + n + "\n", rows.out(), "one row per epoch: "
                + rows.both());
    }

    /** The names {@code format} gives epochs 1..{@code n}. */
    private static List<String> epochFiles(int n, String format) {
        return java.util.stream.IntStream.rangeClosed(1, n).mapToObj(e -> String.format(format, e)).toList();
    }

    /** The visible files of {@code dir}: neither hidden ({@code _staging}, checksums) nor directories. */
    private static List<String> names(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> !n.startsWith("_") && !n.startsWith("."))
                    .sorted().toList();
        }
    }
}
