package io.github.sparkdropout.job;

import io.github.sparkdropout.Submit;
import io.github.sparkdropout.TestData;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The driver JVM killed with SIGKILL in the middle of an epoch (a real process, as a lost node or an OOM killer
 * would), then {@code train --resume}: the run ends with the same per-epoch metrics and bit-identical parameters as
 * an uninterrupted run with the same seed and settings, and one row per epoch.
 */
@Tag("reliability")
class DriverKillIT {
    @TempDir
    Path dir;

    private List<String> train(String metrics, String runId) {
        return new ArrayList<>(List.of("./submit.sh", "--master", "local[2]", "train", "--data", TestData.realData(),
                "--train-limit", "16384", "--test-limit", "1000", "--epochs", "4", "--metrics", metrics, "--run-id",
                runId));
    }

    private static byte[] coefficients(Path model) throws Exception {
        try (ZipFile zip = new ZipFile(model.toFile())) {
            return zip.getInputStream(zip.getEntry("coefficients.bin")).readAllBytes();
        }
    }

    @Test
    void aKilledDriverResumesToTheUninterruptedResult() throws Exception {
        String metrics = dir.resolve("metrics").toString();
        Path checkpoint2 = Path.of(metrics, "models/killed/checkpoints/epoch-0002.zip");
        Path log = dir.resolve("killed.txt");
        ProcessBuilder pb = new ProcessBuilder(train(metrics, "killed")).redirectErrorStream(true)
                .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().remove("SPARK_HOME");
        Process driver = pb.start(); // submit.sh execs the driver JVM: this process is the driver
        try {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while (!Files.exists(checkpoint2) && driver.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(Files.exists(checkpoint2) && driver.isAlive(), "epoch 2 saved, epoch 3 under way: "
                    + Files.readString(log));
            driver.destroyForcibly(); // SIGKILL
            assertTrue(driver.waitFor(1, TimeUnit.MINUTES));
            assertEquals(137, driver.exitValue(), "killed by SIGKILL");
        } finally {
            driver.descendants().forEach(ProcessHandle::destroyForcibly);
            driver.destroyForcibly();
        }
        assertFalse(Files.exists(Path.of(metrics, "models/killed/model.zip")), "killed before the end");

        Submit submit = new Submit(dir).env("SPARK_HOME", null);
        Submit.Result resumed = submit.run("--master", "local[2]", "train", "--resume", "killed", "--metrics",
                metrics);
        assertEquals(0, resumed.exit(), resumed.both());
        assertTrue(resumed.out().contains("resuming run killed after epoch "), resumed.out());
        List<String> straightCmd = train(metrics, "straight");
        Submit.Result straight = submit.run(straightCmd.subList(1, straightCmd.size()).toArray(new String[0]));
        assertEquals(0, straight.exit(), straight.both());

        Submit.Result rows = submit.run("sql", "SELECT run_id, epoch, train_loss, train_acc, test_acc FROM metrics"
                + " ORDER BY epoch, run_id", "--metrics", metrics, "--format", "csv");
        List<String> lines = rows.out().lines().skip(1).toList();
        assertEquals(8, lines.size(), "4 epochs of each run, none twice: " + rows.out());
        for (int e = 0; e < 4; e++) {
            String killed = lines.get(2 * e).substring(lines.get(2 * e).indexOf(','));
            String uninterrupted = lines.get(2 * e + 1).substring(lines.get(2 * e + 1).indexOf(','));
            assertEquals(uninterrupted, killed, "epoch " + (e + 1) + ": " + rows.out());
        }
        assertArrayEquals(coefficients(Path.of(metrics, "models/straight/model.zip")),
                coefficients(Path.of(metrics, "models/killed/model.zip")), "bit-identical final parameters");
    }
}
