package io.github.sparkdropout.cluster;

import io.github.sparkdropout.Submit;
import io.github.sparkdropout.TestData;
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
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The job on a Spark standalone cluster through a real {@code spark-submit} ({@code target/spark-home}): a master
 * and two worker JVMs on 127.0.0.1, started with the installation's {@code spark-class}; client and cluster deploy
 * mode (the driver then runs inside a worker).
 */
@Tag("cluster")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StandaloneClusterIT {
    @TempDir
    static Path work;
    static final List<Process> daemons = new ArrayList<>();
    static String master;
    static String metrics;
    static String data;

    @BeforeAll
    static void startMasterAndTwoWorkers() throws Exception {
        int port = freePort();
        int uiPort = freePort();
        master = "spark://127.0.0.1:" + port;
        metrics = work.resolve("metrics").toString();
        data = Path.of(TestData.realData()).toAbsolutePath().toString(); // the driver's working directory varies
        daemons.add(sparkClass("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
                "" + port, "--webui-port", "" + uiPort));
        for (int w = 1; w <= 2; w++) {
            // 2 cores each: in cluster mode one worker also hosts the driver (1 core) beside an executor
            daemons.add(sparkClass("worker" + w, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                    "--cores", "2", "--memory", "3g", "--work-dir", work.resolve("worker" + w).toString(),
                    "--webui-port", "0", master));
        }
        awaitAliveWorkers(uiPort, 2);
    }

    @AfterAll
    static void stopEverything() {
        daemons.forEach(p -> {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        });
        Submit.killDescendants();
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
        return pb.start();
    }

    /** Polls the master's status page until {@code n} workers have registered. */
    private static void awaitAliveWorkers(int uiPort, int n) throws Exception {
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

    private static Submit.Result train(String deployMode, String runId, String dataDir) throws Exception {
        return submit().sparkOptions("--master", master, "--deploy-mode", deployMode, "--executor-cores", "1",
                "--total-executor-cores", "2", "--executor-memory", "1g", "--driver-memory", "1g")
                .run("train", "--workers", "2", "--epochs", "2", "--train-limit", "4096", "--test-limit", "1000",
                        "--data", dataDir, "--metrics", metrics, "--run-id", runId);
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

    @Test
    @Order(1)
    void clientMode() throws Exception {
        Submit.Result r = train("client", "standalone-client", data);
        assertEquals(0, r.exit(), r.both());
        assertTrue(r.out().contains("done: run standalone-client, 2 epochs"), r.out());
    }

    @Test
    @Order(2)
    void clusterModeRunsTheDriverInAWorker() throws Exception {
        Submit.Result r = train("cluster", "standalone-cluster", data);
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

    @Test
    @Order(4)
    void aFailedDriverInClusterModeIsANonZeroExit() throws Exception {
        Submit.Result r = train("cluster", "standalone-failed", work.resolve("nowhere").toString());
        assertNotEquals(0, r.exit(), "spark-submit itself exits 0 here; submit.sh reports the driver's state: "
                + r.both());
        assertTrue(r.err().contains("is FAILED") || r.err().contains("is ERROR"), r.err());
    }
}
