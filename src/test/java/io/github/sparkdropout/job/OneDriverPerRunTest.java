package io.github.sparkdropout.job;

import io.github.sparkdropout.Submit;
import io.github.sparkdropout.TestData;
import io.github.sparkdropout.UserProgram;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One driver at a time writes a run: real {@code ./submit.sh} processes on one {@code --metrics}, started half a
 * second apart with one run id (two trains, two resumes), and a resume after a driver killed with SIGKILL.
 */
class OneDriverPerRunTest {
    private static final Pattern APP_ID = Pattern.compile("\nspark \\S+ master \\S+ \\((\\S+)\\)");
    private static final String IN_USE = "error: run '%s' is in use by application (\\S+) on host \\S+ \\(pid \\d+\\)"
            + " since \\S+: .*";

    @TempDir
    Path dir;
    private final List<Process> started = new ArrayList<>();

    /** A driver running in the background, its streams going to files. */
    private record Running(Process process, Path out, Path err) {
        Submit.Result await() throws IOException, InterruptedException {
            if (!process.waitFor(5, TimeUnit.MINUTES)) {
                throw new AssertionError("still running after 5 min:\n" + Files.readString(out) + Files.readString(err)
                        + "\n" + UserProgram.whatIsStuck(process));
            }
            return new Submit.Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        }
    }

    private Running start(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("./submit.sh", "--master", "local[2]"));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().remove("SPARK_HOME"); // the embedded path: submit.sh execs the driver JVM itself
        Process p = pb.start();
        started.add(p);
        return new Running(p, out, err);
    }

    @AfterEach
    void stopWhatWasStarted() {
        for (Process p : started) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    /** A training run of {@code epochs} that has saved epoch 1 and is training the next ones. */
    private Running startPastEpoch1(String metrics, String runId, int epochs) throws Exception {
        Path checkpoint1 = Path.of(metrics, "models", runId, "checkpoints/epoch-0001.zip");
        Running run = start(train(metrics, "--epochs", Integer.toString(epochs), "--run-id", runId));
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (!Files.exists(checkpoint1) && run.process().isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(Files.exists(checkpoint1) && run.process().isAlive(), "epoch 1 saved, later ones under way: "
                + Files.readString(run.out()) + Files.readString(run.err()));
        return run;
    }

    private String[] train(String metrics, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--data", TestData.realData(), "--train-limit", "2048",
                "--test-limit", "600", "--metrics", metrics));
        args.addAll(List.of(more));
        return args.toArray(new String[0]);
    }

    private Submit.Result sql(String metrics, String query) throws Exception {
        Submit.Result r = new Submit(dir).env("SPARK_HOME", null).run("sql", query, "--metrics", metrics, "--format",
                "csv");
        assertEquals(0, r.exit(), r.both());
        return r;
    }

    private static String appId(Submit.Result r) {
        Matcher m = APP_ID.matcher(r.out());
        assertTrue(m.find(), "the run names its application: " + r.out());
        return m.group(1);
    }

    /** Two results of one run id, either order: the one that ran (exit 0) and the one refused (exit 2). */
    private static Submit.Result[] winnerAndLoser(Submit.Result a, Submit.Result b, String runId) {
        List<Submit.Result> both = new ArrayList<>(List.of(a, b));
        both.sort(Comparator.comparingInt(Submit.Result::exit));
        assertEquals(List.of(0, 2), both.stream().map(Submit.Result::exit).toList(),
                "exactly one runs, the other is refused:\n" + a.both() + "\n" + b.both());
        Submit.Result winner = both.get(0);
        Submit.Result loser = both.get(1);
        List<String> errors = loser.err().lines().filter(l -> l.startsWith("error: ")).toList();
        assertEquals(1, errors.size(), loser.both());
        Matcher m = Pattern.compile(String.format(IN_USE, runId)).matcher(errors.get(0));
        assertTrue(m.matches(), "one line naming the holder: " + errors.get(0));
        assertEquals(appId(winner), m.group(1), "the holder named is the driver that ran");
        return new Submit.Result[]{winner, loser};
    }

    @Test
    void twoTrainsOfOneRunIdAtOnceOneRunsTheOtherIsRefused() throws Exception {
        String metrics = dir.resolve("metrics").toString();
        Running a = start(train(metrics, "--epochs", "2", "--run-id", "dup"));
        Thread.sleep(500);
        Running b = start(train(metrics, "--epochs", "2", "--run-id", "dup"));
        Submit.Result winner = winnerAndLoser(a.await(), b.await(), "dup")[0];
        assertTrue(winner.out().contains("done: run dup, 2 epochs"), winner.out());
        String app = appId(winner);
        assertEquals("epoch,app_id\n1," + app + "\n2," + app + "\n", sql(metrics, "SELECT epoch, app_id FROM metrics"
                + " WHERE run_id = 'dup' ORDER BY epoch").out(), "exactly the winner's rows");
        assertEquals("n\n20\n", sql(metrics, "SELECT count(*) AS n FROM class_metrics").out());
    }

    @Test
    void twoResumesOfOneRunAtOnceOneRunsTheOtherIsRefused() throws Exception {
        String metrics = dir.resolve("metrics").toString();
        Submit.Result first = start(train(metrics, "--epochs", "1", "--run-id", "twice")).await();
        assertEquals(0, first.exit(), first.both());
        Running a = start("train", "--resume", "twice", "--epochs", "3", "--metrics", metrics);
        Thread.sleep(500);
        Running b = start("train", "--resume", "twice", "--epochs", "3", "--metrics", metrics);
        Submit.Result winner = winnerAndLoser(a.await(), b.await(), "twice")[0];
        assertTrue(winner.out().contains("done: run twice, 3 epochs"), winner.out());
        String app = appId(winner);
        assertEquals("epoch,app_id\n1," + appId(first) + "\n2," + app + "\n3," + app + "\n", sql(metrics,
                "SELECT epoch, app_id FROM metrics WHERE run_id = 'twice' ORDER BY epoch").out(),
                "each epoch once, the resumed ones by the winner");
    }

    @Test
    void aClaimLeftByAKilledDriverDoesNotBlockItsResume() throws Exception {
        String metrics = dir.resolve("metrics").toString();
        Running killed = startPastEpoch1(metrics, "killed", 100);
        killed.process().destroyForcibly(); // SIGKILL: no code of the driver runs to release its claim
        Submit.Result gone = killed.await();
        assertEquals(137, gone.exit());

        Submit.Result resumed = start("train", "--resume", "killed", "--epochs", "2", "--metrics", metrics).await();
        assertEquals(0, resumed.exit(), resumed.both());
        String taken = String.format("run killed: taking over the claim of application %s on host \\S+ \\(pid"
                + " %d\\) since \\S+, which ended without releasing it \\(its process is gone\\)", appId(gone),
                killed.process().pid());
        assertTrue(resumed.out().lines().anyMatch(l -> l.matches(taken)), "one line says whose claim it takes: "
                + resumed.out());

        Submit.Result again = start("train", "--resume", "killed", "--epochs", "2", "--metrics", metrics).await();
        assertEquals(0, again.exit(), again.both());
        assertTrue(again.out().lines().noneMatch(l -> l.contains("taking over")), "a released claim is simply"
                + " taken: " + again.out());
    }

    @Test
    void aDriverWhoseRunWasTakenOverStopsBeforeItsNextWriteAndLeavesTheRunToTheOther() throws Exception {
        String metrics = dir.resolve("metrics").toString();
        Path claims = Path.of(metrics, "claims", "taken");
        Running driver = startPastEpoch1(metrics, "taken", 200);
        // what a driver that took this one for dead does (RunClaim.take): a claim numbered after it, then the
        // earlier claims deleted
        Path mine;
        try (var listing = Files.list(claims)) {
            mine = listing.filter(p -> p.getFileName().toString().matches("\\d{10}")).findFirst().orElseThrow();
        }
        Path other = claims.resolve(String.format("%010d", Long.parseLong(mine.getFileName().toString()) + 1));
        Files.writeString(other, "app=app-other\n");
        Files.delete(mine);

        Submit.Result stopped = driver.await();
        assertEquals(1, stopped.exit(), stopped.both());
        Matcher m = Pattern.compile("error: run taken was taken over by another driver \\(its claim "
                + other.getFileName() + " follows this driver's " + mine.getFileName() + "\\): this driver stops"
                + " before the next write of epoch (\\d+); the run is the other driver's now \\(full trace in \\S+\\)")
                .matcher(stopped.err());
        assertTrue(m.find(), "one line saying why: " + stopped.err());
        int stoppedIn = Integer.parseInt(m.group(1));
        assertEquals(1, stopped.err().lines().filter(l -> l.startsWith("error: ")).count(), stopped.err());
        assertTrue(Files.exists(other), "the other driver's claim is left as it is");
        assertTrue(Files.notExists(Path.of(metrics, "models/taken/checkpoints/epoch-"
                + String.format("%04d", stoppedIn) + ".zip")), "no checkpoint of the epoch it stopped in");
        // its rows may be there (the takeover seen between its rows and its checkpoint): rows without a checkpoint,
        // which the holder's own rows of that epoch replace (one file an epoch); nothing after it
        String max = sql(metrics, "SELECT max(epoch) AS m FROM metrics WHERE run_id = 'taken'").out();
        assertTrue(Integer.parseInt(max.lines().skip(1).findFirst().orElseThrow()) <= stoppedIn,
                "no row after the epoch it stopped in: " + max);
    }
}
