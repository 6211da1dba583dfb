package io.github.sparkdropout.job;

import io.github.sparkdropout.config.UsageException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link RunClaim} on the local filesystem and on HDFS (a MiniDFSCluster in this JVM). */
class RunClaimTest {
    /** Short enough for tests: a heartbeat every 100 ms, silent for 1 s is old. */
    private static final RunClaim.Timing FAST = new RunClaim.Timing(Duration.ofMillis(100), Duration.ofSeconds(1));

    @TempDir
    static java.nio.file.Path dir;
    private static MiniDFSCluster dfs;
    private static int roots;

    @AfterAll
    static void stopHdfs() {
        if (dfs != null) {
            dfs.shutdown();
        }
    }

    /** A metrics location, and the configuration that reaches its filesystem. */
    private record Location(Configuration conf, String root) {
        FileSystem fs() throws Exception {
            return new Path(root).getFileSystem(conf);
        }

        RunClaim take(RunClaim.Holder holder) {
            return RunClaim.take(conf, root, "r", holder, FAST);
        }

        /** The run's claim files by name. */
        List<String> files() throws Exception {
            return Arrays.stream(fs().listStatus(new Path(root, "claims/r"))).map(s -> s.getPath().getName())
                    .sorted().toList();
        }
    }

    /** A fresh metrics location on {@code fsKind}: "local", or "hdfs" (the cluster started on first use). */
    private static synchronized Location location(String fsKind) throws Exception {
        roots++;
        if (fsKind.equals("local")) {
            return new Location(new Configuration(), dir.resolve("metrics-" + roots).toString());
        }
        if (dfs == null) {
            Configuration base = new Configuration();
            base.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, dir.resolve("dfs").toString());
            dfs = new MiniDFSCluster.Builder(base).numDataNodes(1).build();
            dfs.waitActive();
        }
        return new Location(dfs.getConfiguration(0), dfs.getURI() + "/metrics-" + roots);
    }

    private static RunClaim.Holder me(String appId) {
        return RunClaim.Holder.thisProcess(appId, Optional.empty());
    }

    private static RunClaim.Holder elsewhere(String appId, String attempt) {
        return new RunClaim.Holder(appId, attempt, "elsewhere.example", 4242, 1L, System.currentTimeMillis());
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "hdfs"})
    void aRunIsHeldUntilReleasedAndTheRefusalNamesTheHolder(String fsKind) throws Exception {
        Location at = location(fsKind);
        RunClaim first = at.take(me("app-1"));
        assertEquals(Optional.empty(), first.takeover());
        UsageException refused = assertThrows(UsageException.class, () -> at.take(me("app-2")));
        assertTrue(refused.getMessage().matches("run 'r' is in use by application app-1 on host \\S+ \\(pid "
                + ProcessHandle.current().pid() + "\\) since \\S+: one driver at a time writes a run .*"),
                refused.getMessage());
        first.close();
        assertEquals(List.of("0000000001.released"), at.files());
        try (RunClaim second = at.take(me("app-2"))) {
            assertEquals(Optional.empty(), second.takeover(), "a released claim is no one's");
            assertEquals(List.of("0000000002"), at.files(), "the earlier claim is gone");
        }
        assertEquals(List.of("0000000002.released"), at.files());
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "hdfs"})
    void ofManyDriversClaimingAtOnceExactlyOneHoldsTheRun(String fsKind) throws Exception {
        Location at = location(fsKind);
        int drivers = 8;
        ExecutorService pool = Executors.newFixedThreadPool(drivers);
        try {
            for (int round = 0; round < 10; round++) {
                CyclicBarrier together = new CyclicBarrier(drivers);
                List<Future<RunClaim>> tries = new ArrayList<>();
                for (int d = 0; d < drivers; d++) {
                    String app = "app-" + round + "-" + d;
                    tries.add(pool.submit(() -> {
                        together.await();
                        try {
                            return at.take(me(app));
                        } catch (UsageException refused) {
                            return null;
                        }
                    }));
                }
                List<RunClaim> held = new ArrayList<>();
                for (Future<RunClaim> f : tries) {
                    if (f.get() != null) {
                        held.add(f.get());
                    }
                }
                assertEquals(1, held.size(), "round " + round + ": " + held.size() + " drivers hold the run");
                held.forEach(RunClaim::close);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "hdfs"})
    void theClaimOfAProcessOfThisHostThatIsGoneIsTakenOverAtOnce(String fsKind) throws Exception {
        Location at = location(fsKind);
        // cat runs until its input closes, so its start time is read while it still runs (a process that has
        // already ended has no start time to read)
        Process gone = new ProcessBuilder("cat").start();
        long started = gone.info().startInstant().orElseThrow().toEpochMilli();
        gone.getOutputStream().close();
        assertEquals(0, gone.waitFor());
        RunClaim.Holder mine = me("app-new");
        RunClaim dead = at.take(new RunClaim.Holder("app-old", "", mine.host(), gone.pid(), started, 1L));
        dead.abandon();
        long t0 = System.nanoTime();
        try (RunClaim claim = at.take(mine)) {
            assertTrue(claim.takeover().orElseThrow().matches("run r: taking over the claim of application app-old"
                    + " on host \\S+ \\(pid " + gone.pid() + "\\) since \\S+, which ended without releasing it \\(its"
                    + " process is gone\\)"), claim.takeover().get());
            assertTrue(System.nanoTime() - t0 < FAST.staleAfter().toNanos(), "no waiting for its heartbeat to age");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "hdfs"})
    void aSilentHolderElsewhereIsTakenOverOnceItsHeartbeatIsOld(String fsKind) throws Exception {
        Location at = location(fsKind);
        RunClaim silent = at.take(elsewhere("app-old", ""));
        silent.abandon();
        UsageException fresh = assertThrows(UsageException.class, () -> at.take(me("app-new")));
        assertTrue(fresh.getMessage().contains("in use by application app-old on host elsewhere.example (pid 4242)"),
                "a recent heartbeat holds the run: " + fresh.getMessage());
        at.fs().setTimes(silent.path(), System.currentTimeMillis() - 600_000, -1);
        try (RunClaim claim = at.take(me("app-new"))) {
            assertTrue(claim.takeover().orElseThrow().matches("run r: taking over the claim of application app-old"
                    + " on host elsewhere\\.example \\(pid 4242\\) since \\S+, which ended without releasing it \\(its"
                    + " heartbeat stopped at \\S+\\)"), claim.takeover().get());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "hdfs"})
    void aHolderElsewhereWhoseHeartbeatLooksOldButStillBeatsHoldsTheRun(String fsKind) throws Exception {
        Location at = location(fsKind);
        RunClaim lagging = at.take(elsewhere("app-old", ""));
        lagging.abandon();
        FileSystem fs = at.fs();
        AtomicBoolean beating = new AtomicBoolean(true);
        Thread clockBehind = new Thread(() -> { // its clock ten minutes behind ours
            try {
                while (beating.get()) {
                    fs.setTimes(lagging.path(), System.currentTimeMillis() - 600_000, -1);
                    Thread.sleep(FAST.heartbeat().toMillis());
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        clockBehind.start();
        try {
            UsageException refused = assertThrows(UsageException.class, () -> at.take(me("app-new")));
            assertTrue(refused.getMessage().contains("in use by application app-old"), refused.getMessage());
        } finally {
            beating.set(false);
            clockBehind.join();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "hdfs"})
    void aYarnReattemptTakesOverItsOwnApplicationsClaim(String fsKind) throws Exception {
        Location at = location(fsKind);
        try (RunClaim attempt1 = at.take(elsewhere("application_1_0001", "1"))) { // beating: YARN says it ended
            assertThrows(UsageException.class, () -> at.take(me("application_1_0002")), "another application waits");
            try (RunClaim attempt2 = at.take(RunClaim.Holder.thisProcess("application_1_0001", Optional.of("2")))) {
                assertTrue(attempt2.takeover().orElseThrow().endsWith("(an earlier attempt of this application)"),
                        attempt2.takeover().get());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "hdfs"})
    void aDriverTakenOverForDeadNeverReleasesItsSuccessorsClaim(String fsKind) throws Exception {
        Location at = location(fsKind);
        RunClaim stalled = at.take(elsewhere("app-stalled", ""));
        stalled.abandon();
        at.fs().setTimes(stalled.path(), System.currentTimeMillis() - 600_000, -1);
        try (RunClaim successor = at.take(me("app-next"))) {
            stalled.close(); // it wakes up and ends
            assertEquals(List.of(successor.path().getName()), at.files());
            UsageException refused = assertThrows(UsageException.class, () -> at.take(me("app-third")));
            assertTrue(refused.getMessage().contains("in use by application app-next"), refused.getMessage());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "hdfs"})
    void aDriverTakenOverForDeadFailsTheCheckBeforeItsNextWrite(String fsKind) throws Exception {
        Location at = location(fsKind);
        RunClaim stalled = at.take(elsewhere("app-stalled", ""));
        stalled.requireHeld("recording epoch 3"); // held: passes
        stalled.abandon(); // silent: a heartbeat that cannot reach the filesystem, a frozen process
        at.fs().setTimes(stalled.path(), System.currentTimeMillis() - 600_000, -1);
        try (RunClaim successor = at.take(me("app-next"))) {
            JobFailure e = assertThrows(JobFailure.class,
                    () -> stalled.requireHeld("recording epoch 3"), "it comes back and would write");
            assertEquals("run r was taken over by another driver (its claim " + successor.path().getName()
                    + " follows this driver's " + stalled.path().getName() + "): this driver stops before recording"
                    + " epoch 3; the run is the other driver's now", e.getMessage());
            successor.requireHeld("recording epoch 3");
        }
        // a driver that released its claim (a JVM shutting down, finishing its epoch in flight) still writes it,
        // unless another driver has claimed the run since
        RunClaim done = at.take(me("app-done"));
        done.close();
        done.requireHeld("recording epoch 4");
        try (RunClaim after = at.take(me("app-after"))) {
            assertThrows(JobFailure.class, () -> done.requireHeld("recording epoch 4"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "hdfs"})
    void theHeartbeatKeepsTheClaimFresh(String fsKind) throws Exception {
        Location at = location(fsKind);
        try (RunClaim claim = at.take(me("app-1"))) {
            long old = System.currentTimeMillis() - 600_000;
            at.fs().setTimes(claim.path(), old, -1);
            Thread.sleep(4 * FAST.heartbeat().toMillis());
            assertTrue(at.fs().getFileStatus(claim.path()).getModificationTime() > old + 500_000);
        }
    }

    @org.junit.jupiter.api.Test
    void underAPermissiveUmaskTheClaimIsStillNotWritableByOthers() throws Exception {
        Configuration conf = new Configuration();
        conf.set("fs.permissions.umask-mode", "000");
        String root = dir.resolve("umask000").toString();
        try (RunClaim claim = RunClaim.take(conf, root, "r", me("app-1"), FAST)) {
            for (java.nio.file.Path p : new java.nio.file.Path[]{java.nio.file.Path.of(root, "claims"),
                    java.nio.file.Path.of(root, "claims/r"), java.nio.file.Path.of(claim.path().toUri().getPath())}) {
                assertFalse(Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_WRITE), p + " "
                        + Files.getPosixFilePermissions(p));
            }
        }
        FileStatus released = new Path(root, "claims/r/0000000001.released").getFileSystem(conf)
                .getFileStatus(new Path(root, "claims/r/0000000001.released"));
        assertFalse(released.getPermission().getOtherAction().implies(org.apache.hadoop.fs.permission.FsAction.WRITE));
    }
}
