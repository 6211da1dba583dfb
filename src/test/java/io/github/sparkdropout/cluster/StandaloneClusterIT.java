package io.github.sparkdropout.cluster;

import io.github.sparkdropout.Submit;
import io.github.sparkdropout.TestData;
import io.github.sparkdropout.model.HostBlas;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The job on a Spark standalone cluster through a real {@code spark-submit} ({@code target/spark-home}): a master
 * and two worker JVMs on 127.0.0.1, started with the installation's {@code spark-class}; every connection
 * authenticated with a shared secret and encrypted ({@code spark.authenticate}, {@code spark.network.crypto}), the
 * averaging messages included. Client and cluster deploy mode (the driver then runs inside a worker), and what
 * the cluster does to a job: a worker failing, an executor JVM killed mid-epoch, a worker lost for good.
 */
@Tag("cluster")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StandaloneClusterIT {
    private static final String SECRET = "standalone-it-" + System.nanoTime();
    private static final String[] SECURITY = {"--conf", "spark.authenticate=true",
            "--conf", "spark.authenticate.secret=" + SECRET, "--conf", "spark.network.crypto.enabled=true"};

    @TempDir
    static Path work;
    static final List<Process> daemons = new ArrayList<>();
    static String master;
    static int uiPort;
    static String metrics;
    static String data;

    @BeforeAll
    static void startMasterAndTwoWorkers() throws Exception {
        int port = freePort();
        uiPort = freePort();
        master = "spark://127.0.0.1:" + port;
        metrics = work.resolve("metrics").toString();
        data = Path.of(TestData.realData()).toAbsolutePath().toString(); // the driver's working directory varies
        daemons.add(sparkClass("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
                "" + port, "--webui-port", "" + uiPort));
        for (int w = 1; w <= 2; w++) {
            daemons.add(worker(w));
        }
        awaitAliveWorkers(2);
    }

    @AfterAll
    static void stopEverything() {
        daemons.forEach(p -> {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        });
        Submit.killDescendants();
    }

    /** 2 cores each: in cluster mode one worker also hosts the driver (1 core) beside an executor. */
    private static Process worker(int w) throws IOException {
        return sparkClass("worker" + w + "-" + System.nanoTime(), "org.apache.spark.deploy.worker.Worker",
                "--host", "127.0.0.1", "--cores", "2", "--memory", "3g", "--work-dir",
                work.resolve("worker" + w).toString(), "--webui-port", "0", master);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static Process sparkClass(String name, String... classAndArgs) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(SparkHome.path().resolve("bin/spark-class").toString()));
        cmd.addAll(List.of(classAndArgs));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true).redirectOutput(work.resolve(name + ".log").toFile());
        pb.environment().put("SPARK_HOME", SparkHome.path().toString());
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        // the daemons share the applications' secret and encrypt too
        pb.environment().put("SPARK_DAEMON_JAVA_OPTS", "-Dspark.authenticate=true -Dspark.authenticate.secret="
                + SECRET + " -Dspark.network.crypto.enabled=true");
        return pb.start();
    }

    /** Polls the master's status page until {@code n} workers are alive. */
    private static void awaitAliveWorkers(int n) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest status = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + uiPort + "/json/")).build();
        String body = "";
        for (int i = 0; i < 120; i++) {
            try {
                body = http.send(status, HttpResponse.BodyHandlers.ofString()).body();
                if (body.replace(" ", "").contains("\"aliveworkers\":" + n)) {
                    return;
                }
            } catch (IOException notUpYet) {
                // the master is still starting
            }
            Thread.sleep(500);
        }
        throw new AssertionError("the standalone cluster did not get " + n + " workers: " + body);
    }

    private static Submit submit() {
        return new Submit(work.resolve("logs")).env("SPARK_HOME", SparkHome.path().toString())
                .env("SPARK_LOCAL_IP", "127.0.0.1");
    }

    private static Submit onCluster(String deployMode, String... more) {
        Submit s = submit().sparkOptions("--master", master, "--deploy-mode", deployMode, "--executor-cores", "1",
                "--total-executor-cores", "2", "--executor-memory", "1g", "--driver-memory", "1g",
                // a barrier stage waiting for a replacement executor checks for free slots every second
                "--conf", "spark.scheduler.barrier.maxConcurrentTasksCheck.interval=1s");
        return s.sparkOptions(SECURITY).sparkOptions(more);
    }

    private static String[] train(String runId, String dataDir, int epochs, int trainLimit) {
        return new String[]{"train", "--workers", "2", "--epochs", "" + epochs, "--train-limit", "" + trainLimit,
                "--test-limit", "1000", "--data", dataDir, "--metrics", metrics, "--run-id", runId};
    }

    /** The drivers' {@code stdout} or {@code stderr} in cluster mode: DRIVER_ID/NAME in a worker's work directory. */
    private static String driverLog(String name) throws IOException {
        StringBuilder sb = new StringBuilder();
        try (Stream<Path> files = Files.walk(work)) {
            for (Path p : files.filter(f -> f.getFileName().toString().equals(name)
                    && f.getParent().getFileName().toString().startsWith("driver-")).toList()) {
                sb.append(Files.readString(p, StandardCharsets.UTF_8));
            }
        }
        return sb.toString();
    }

    /** The rows of a run as CSV lines "epoch,train_loss,train_acc,test_acc". */
    private static List<String> curve(String runId) throws Exception {
        Submit.Result r = submit().run("sql", "SELECT epoch, train_loss, train_acc, test_acc FROM metrics WHERE run_id"
                + " = '" + runId + "' ORDER BY epoch", "--metrics", metrics, "--format", "csv");
        return r.out().lines().skip(1).toList();
    }

    /** Waits until {@code runId}'s checkpoint of {@code epoch} exists (the epoch is over, the next under way). */
    private static void awaitCheckpoint(String runId, int epoch, CompletableFuture<?> run) throws Exception {
        Path checkpoint = Path.of(metrics, "models", runId, "checkpoints", String.format("epoch-%04d.zip", epoch));
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
        while (!Files.exists(checkpoint) && !run.isDone() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(Files.exists(checkpoint) && !run.isDone(), "run " + runId + " reached epoch " + (epoch + 1));
    }

    /** Waits until {@code p} computes (its CPU time grows by 150 ms within 300 ms). */
    private static void awaitBusy(ProcessHandle p) throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            Duration before = p.info().totalCpuDuration().orElse(Duration.ZERO);
            Thread.sleep(300);
            if (p.info().totalCpuDuration().orElse(Duration.ZERO).minus(before).toMillis() >= 150) {
                return;
            }
        }
        throw new AssertionError("the executor never got busy");
    }

    /** The output so far of the submission started last (what a hung run printed). */
    private static String latestOutput() throws IOException {
        StringBuilder sb = new StringBuilder();
        try (Stream<Path> files = Files.list(work.resolve("logs"))) {
            for (Path p : files.sorted((a, b) -> Long.compare(b.toFile().lastModified(), a.toFile().lastModified()))
                    .limit(2).toList()) {
                String text = Files.readString(p, StandardCharsets.UTF_8);
                sb.append("--- ").append(p.getFileName()).append('\n')
                        .append(text.length() > 6000 ? text.substring(text.length() - 6000) : text);
            }
        }
        return sb.toString();
    }

    private static Optional<ProcessHandle> executorOf(Process worker) {
        return worker.descendants().filter(p -> p.info().arguments().map(a -> String.join(" ", a))
                .filter(a -> a.contains("CoarseGrainedExecutorBackend")).isPresent()).findFirst();
    }

    private static CompletableFuture<Submit.Result> inBackground(Submit s, String... args) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return s.run(args);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @Test
    @Order(1)
    void clientModeAuthenticatedAndEncrypted() throws Exception {
        Submit.Result r = onCluster("client").run(train("standalone-client", data, 2, 4096));
        assertEquals(0, r.exit(), r.both());
        assertTrue(r.out().contains("done: run standalone-client, 2 epochs"), r.out());
        String executors = executorLogs();
        assertTrue(executors.split("executor warmed up for replicas in ", -1).length - 1 >= 2,
                "each executor warmed up as it started (replica.ExecutorWarmUp):\n" + executors);
        // nobody set OPENBLAS_CORETYPE for the workers: each executor asked for the best set its CPU's flags allow
        String best = HostBlas.KernelChoice.bestFor(HostBlas.KernelChoice.cpuFlags());
        String requested = System.getenv("OPENBLAS_CORETYPE");
        if (best != null && (requested == null || requested.isEmpty())) {
            assertTrue(r.out().contains("OpenBLAS kernels " + best + " (chosen by this CPU's flags)"), r.out());
        }
    }

    /** The executors' {@code stderr}: APP_ID/EXECUTOR_ID/stderr in the workers' work directories. */
    private static String executorLogs() throws IOException {
        StringBuilder sb = new StringBuilder();
        try (Stream<Path> files = Files.walk(work)) {
            for (Path p : files.filter(f -> f.getFileName().toString().equals("stderr")
                    && f.getParent().getParent().getFileName().toString().startsWith("app-")).toList()) {
                sb.append(Files.readString(p, StandardCharsets.UTF_8));
            }
        }
        return sb.toString();
    }

    @Test
    @Order(2)
    void clusterModeRunsTheDriverInAWorker() throws Exception {
        Submit.Result r = onCluster("cluster").run(train("standalone-cluster", data, 2, 4096));
        String driver = driverLog("stdout");
        assertEquals(0, r.exit(), r.both() + "\n--- driver\n" + driver + driverLog("stderr"));
        assertTrue(r.err().contains("is FINISHED"), "spark-submit waited for the driver: " + r.err());
        assertTrue(driver.contains("done: run standalone-cluster, 2 epochs"), driver);
    }

    @Test
    @Order(3)
    void bothRunsRecordedEveryEpochOnTwoExecutorsWithBarrierAveraging() throws Exception {
        Submit.Result r = submit().run("sql", "SELECT run_id, count(*) AS epochs, min(master) = '" + master
                + "' AS on_master, min(executor_count) AS executors, min(averaging_sync) AS sync FROM metrics"
                + " GROUP BY run_id ORDER BY run_id", "--metrics", metrics, "--format", "csv");
        assertEquals("run_id,epochs,on_master,executors,sync\nstandalone-client,2,true,2,barrier\n"
                + "standalone-cluster,2,true,2,barrier\n", r.out(), r.both());
    }

    /** DL4J's own ParameterAveragingTrainingMaster on executors of their own JVMs, on either Spark line. */
    @Test
    @Order(4)
    void theStockTrainingMasterTrainsOnTheClusterToo() throws Exception {
        List<String> args = new ArrayList<>(List.of(train("standalone-stock", data, 2, 4096)));
        args.addAll(List.of("--training-master", "stock"));
        Submit.Result r = onCluster("client").run(args.toArray(String[]::new));
        assertEquals(0, r.exit(), r.both());
        assertTrue(r.out().contains("done: run standalone-stock, 2 epochs"), r.out());
        // learned: below chance's loss (ln 10 = 2.30) and twice chance's accuracy; DL4J's master draws its own dropout
        // masks, so its runs vary (2 epochs of 4,096 examples: loss 1.57-1.70, test accuracy 0.52-0.56 in local mode)
        Submit.Result rows = submit().run("sql", "SELECT count(*) AS epochs, min(training_master) AS master,"
                + " min(executor_count) AS executors, min(train_loss) < 2.2 AND max(test_acc) > 0.2 AS learned"
                + " FROM metrics WHERE run_id = 'standalone-stock'", "--metrics", metrics, "--format", "csv");
        assertEquals("epochs,master,executors,learned\n2,stock,2,true\n", rows.out(), rows.both());
    }

    @Test
    @Order(5)
    void aFailedDriverInClusterModeIsANonZeroExit() throws Exception {
        Submit.Result r = onCluster("cluster").run(train("standalone-failed", work.resolve("nowhere").toString(),
                2, 4096));
        assertNotEquals(0, r.exit(), "spark-submit itself exits 0 here; submit.sh reports the driver's state: "
                + r.both());
        assertTrue(r.err().contains("is FAILED") || r.err().contains("is ERROR"), r.err());
    }

    @Test
    @Order(6)
    void aWorkerFailingInAnotherJvmIsRetriedToTheSameModel() throws Exception {
        // the test's failure travels as a Spark setting to the executors: worker 1 fails in round 1 of attempt 1
        Submit.Result r = onCluster("client", "--conf", "spark.sparkdropout.test.failWorker=1:1:0")
                .run(train("standalone-injected", data, 2, 4096));
        assertEquals(0, r.exit(), r.both());
        assertTrue(r.err().contains("a worker failed in epoch 1") && r.err().contains("(attempt 2 of 4)"), r.err());
        assertEquals(curve("standalone-client"), curve("standalone-injected"), "the same epochs as without it");
    }

    @Test
    @Order(7)
    void anExecutorKilledMidEpochIsReplacedAndTheEpochTrainedAgain() throws Exception {
        Submit.Result reference = onCluster("client").run(train("standalone-reference", data, 3, 60000));
        assertEquals(0, reference.exit(), reference.both());
        CompletableFuture<Submit.Result> run = inBackground(onCluster("client"),
                train("standalone-executor-lost", data, 3, 60000));
        awaitCheckpoint("standalone-executor-lost", 1, run);
        ProcessHandle executor = executorOf(daemons.get(2)).orElseThrow(() -> new AssertionError("no executor"));
        awaitBusy(executor); // mid-epoch: computing, not between two stages
        executor.destroyForcibly(); // SIGKILL, as the OOM killer or a lost container would
        Submit.Result r = run.get(6, TimeUnit.MINUTES);
        assertEquals(0, r.exit(), r.both());
        assertTrue(r.err().matches("(?s).*a worker failed in epoch \\d \\(executor \\d+ on 127\\.0\\.0\\.1 lost.*"),
                "one line names the lost executor: " + r.err());
        assertEquals(curve("standalone-reference"), curve("standalone-executor-lost"),
                "every epoch recorded, as if nothing happened");
    }

    @Test
    @Order(8)
    void aWorkerLostForGoodStopsTheJobWithOneLineAndResumeFinishesIt() throws Exception {
        // 2 executors of 2 cores, one per worker, for 4 workers: no core is left over for a replacement
        Submit s = submit().sparkOptions("--master", master, "--executor-cores", "2", "--total-executor-cores", "4",
                "--executor-memory", "1g", "--conf", "spark.scheduler.barrier.maxConcurrentTasksCheck.interval=1s",
                "--conf", "spark.scheduler.barrier.maxConcurrentTasksCheck.maxFailures=3").sparkOptions(SECURITY);
        String[] args = {"train", "--workers", "4", "--epochs", "3", "--train-limit", "20000", "--test-limit", "1000",
                "--data", data, "--metrics", metrics, "--run-id", "standalone-worker-lost"};
        CompletableFuture<Submit.Result> run = inBackground(s, args);
        awaitCheckpoint("standalone-worker-lost", 1, run);
        Process lostWorker = daemons.remove(2);
        lostWorker.descendants().forEach(ProcessHandle::destroyForcibly);
        lostWorker.destroyForcibly();
        Submit.Result r;
        try {
            r = run.get(6, TimeUnit.MINUTES);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("the job did not stop: " + latestOutput(), e);
        }
        assertNotEquals(0, r.exit(), r.both());
        List<String> errors = r.err().lines().filter(l -> l.startsWith("error: ")).toList();
        assertEquals(1, errors.size(), r.err());
        assertTrue(errors.get(0).matches("error: epoch \\d of run standalone-worker-lost failed: executor \\d+ on"
                + " 127\\.0\\.0\\.1 lost.*; epochs? 1(-\\d)? (is|are) recorded and saved, continue with \\./submit\\.sh train"
                + " --resume standalone-worker-lost --metrics .* \\(full trace in .*\\.log\\)"), errors.get(0));

        daemons.add(worker(2)); // the cluster is whole again
        awaitAliveWorkers(2);
        Submit.Result resumed = s.run("train", "--resume", "standalone-worker-lost", "--metrics", metrics);
        assertEquals(0, resumed.exit(), resumed.both());
        assertEquals(List.of(1, 2, 3), curve("standalone-worker-lost").stream()
                .map(l -> Integer.parseInt(l.substring(0, l.indexOf(',')))).toList(), "one row per epoch");
    }
}
