package io.github.sparkdropout.cluster;

import io.github.sparkdropout.Submit;
import io.github.sparkdropout.TestData;
import io.github.sparkdropout.TestSpark;
import io.github.sparkdropout.data.FashionMnist;
import io.github.sparkdropout.data.MnistFrames;
import io.github.sparkdropout.ml.DropoutMlpClassifier;
import io.github.sparkdropout.ml.DropoutMlpModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The job on YARN as a user submits it: the application jar through {@code submit.sh} and a Spark installation
 * ({@code target/spark-home}, bench/spark-home.sh), against a YARN + HDFS minicluster on 127.0.0.1; data and
 * metrics on HDFS; client and cluster deploy mode; the metrics read back by a third process.
 */
@Tag("cluster")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class YarnClusterIT {
    private static final Pattern APP_ID = Pattern.compile("(application_\\d+_\\d+)");

    @TempDir
    static Path work;
    static MiniHadoop hadoop;
    static String data;
    static String metrics;
    static String clusterRunId;

    @BeforeAll
    static void startYarnAndHdfs() throws Exception {
        hadoop = MiniHadoop.start(work);
        data = hadoop.uri("/datasets/fashion-mnist");
        metrics = hadoop.uri("/team/fashion-metrics");
        hadoop.put(Path.of(TestData.realData()), "/datasets/fashion-mnist");
    }

    @AfterAll
    static void stopEverything() {
        // first every process this JVM started (submissions, and the containers: children of the NodeManager while
        // it runs; a container still shutting down when the NodeManager stops would be orphaned), then the cluster
        try {
            Submit.killDescendants();
        } finally {
            try {
                if (hadoop != null) {
                    hadoop.close();
                }
            } finally {
                Submit.killDescendants();
            }
        }
    }

    /** submit.sh with the Spark installation, the minicluster's configuration, and everything on loopback. */
    private static Submit submit() {
        String sparkHome = SparkHome.path().toString();
        return new Submit(work.resolve("logs")).env("SPARK_HOME", sparkHome)
                .env("HADOOP_CONF_DIR", hadoop.confDir().toString()).env("SPARK_LOCAL_IP", "127.0.0.1");
    }

    private static Submit onYarn(String deployMode) {
        return submit().sparkOptions("--master", "yarn", "--deploy-mode", deployMode, "--num-executors", "2",
                "--executor-cores", "1", "--executor-memory", "1g", "--driver-memory", "1g",
                // the Spark jars are on every node already (this machine): no 250 MB upload per submission
                "--conf", "spark.yarn.jars=local:" + SparkHome.path().resolve("jars") + "/*",
                "--conf", "spark.yarn.appMasterEnv.SPARK_LOCAL_IP=127.0.0.1",
                "--conf", "spark.executorEnv.SPARK_LOCAL_IP=127.0.0.1");
    }

    /** {@code train} on 2 workers over a real-data subset. */
    private static String[] train(String metricsDir, int epochs, int trainLimit, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("train", "--workers", "2", "--epochs", "" + epochs,
                "--train-limit", "" + trainLimit, "--test-limit", "1000", "--data", data, "--metrics", metricsDir));
        args.addAll(List.of(more));
        return args.toArray(new String[0]);
    }

    private static String appId(Submit.Result r) {
        Matcher m = APP_ID.matcher(r.err());
        assertTrue(m.find(), "spark-submit names the YARN application: " + r.both());
        return m.group(1);
    }

    private String containerLog(String appId, String name) throws Exception {
        StringBuilder sb = new StringBuilder();
        for (Path p : hadoop.containerLogs(appId, name)) {
            sb.append("=== ").append(p.getParent().getFileName()).append('\n')
                    .append(Files.readString(p, StandardCharsets.UTF_8));
        }
        return sb.toString();
    }

    @Test
    @Order(1)
    void clientModeTrainsOnTwoYarnExecutorsWithDataAndMetricsOnHdfs() throws Exception {
        Submit.Result r = onYarn("client").run(train(metrics, 2, 4096, "--run-id", "yarn-client"));
        assertEquals(0, r.exit(), r.both());
        assertTrue(r.out().contains("master yarn (application_"), r.out());
        assertTrue(r.out().contains("workers on "), "the executors report their own environment: " + r.out());
        assertTrue(r.out().matches("(?s).*\nepoch 1: loss .*\nepoch 2: loss .*"), r.out());
        assertTrue(r.out().contains("done: run yarn-client, 2 epochs"), r.out());
    }

    @Test
    @Order(2)
    void clusterModeRunsTheDriverInTheApplicationMasterAndSucceeds() throws Exception {
        Submit.Result r = onYarn("cluster").run(train(metrics, 2, 4096));
        String appId = appId(r);
        String driverOut = containerLog(appId, "stdout");
        assertEquals(0, r.exit(), r.both() + "\n--- driver stdout\n" + driverOut + containerLog(appId, "stderr"));
        assertTrue(r.err().contains("final status: SUCCEEDED"), r.err());
        clusterRunId = appId; // a generated run id in cluster mode is the application id, the same in every attempt
        assertTrue(driverOut.contains("done: run " + appId + ", 2 epochs"), driverOut);
        assertEquals(1, hadoop.containerLogs(appId, "stdout").stream()
                .filter(p -> p.getParent().getFileName().toString().endsWith("_000001")).count(),
                "one application master: no second attempt");
    }

    @Test
    @Order(3)
    void aThirdProcessQueriesTheRowsOnHdfs() throws Exception {
        Submit.Result r = submit().run("sql", "SELECT run_id, count(*) AS epochs, min(master) AS master,"
                + " min(executor_count) AS executors, max(executor_count) AS executors_max,"
                + " min(averaging_sync) AS sync, count(DISTINCT app_id) AS apps FROM metrics GROUP BY run_id"
                + " ORDER BY run_id", "--metrics", metrics, "--format", "csv");
        assertEquals(0, r.exit(), r.both());
        assertEquals("run_id,epochs,master,executors,executors_max,sync,apps\n"
                + clusterRunId + ",2,yarn,2,2,barrier,1\n"
                + "yarn-client,2,yarn,2,2,barrier,1\n", r.out(), r.err());
        FileSystem fs = hadoop.fs();
        for (String run : new String[]{"yarn-client", clusterRunId}) {
            FileStatus plot = fs.getFileStatus(new org.apache.hadoop.fs.Path(metrics + "/plots/" + run + ".png"));
            assertTrue(plot.getLen() > 1000, "the run's plot is next to the table on HDFS");
        }
    }

    @Test
    @Order(4)
    void aFailureInsideTheApplicationIsANonZeroExitWithTheFinalStatus() throws Exception {
        Submit.Result r = onYarn("cluster").sparkOptions("--conf", "spark.yarn.maxAppAttempts=1")
                .run("train", "--data", hadoop.uri("/nowhere"), "--metrics", metrics, "--epochs", "1");
        assertNotEquals(0, r.exit(), r.both());
        assertTrue(r.err().contains("final status: FAILED"), r.err());
        assertTrue(r.err().contains("error: " + hadoop.uri("/nowhere/train-images-idx3-ubyte.gz")
                + ": file not found"), "the diagnostics carry the job's one-line error: " + r.err());
    }

    @Test
    @Order(5)
    void underDynamicAllocationTheReplicasAverageThroughOneJobPerRound() throws Exception {
        String table = hadoop.uri("/team/dynamic");
        Submit.Result r = submit().sparkOptions("--master", "yarn", "--executor-cores", "1", "--executor-memory", "1g",
                "--conf", "spark.yarn.jars=local:" + SparkHome.path().resolve("jars") + "/*",
                "--conf", "spark.executorEnv.SPARK_LOCAL_IP=127.0.0.1",
                "--conf", "spark.dynamicAllocation.enabled=true",
                "--conf", "spark.dynamicAllocation.shuffleTracking.enabled=true",
                "--conf", "spark.dynamicAllocation.initialExecutors=2", "--conf", "spark.dynamicAllocation.minExecutors=1",
                "--conf", "spark.dynamicAllocation.maxExecutors=2")
                .run(train(table, 1, 4096, "--run-id", "yarn-dynamic"));
        assertEquals(0, r.exit(), r.both());
        assertTrue(r.out().contains("averaging-sync=jobs"), "a barrier stage cannot run under dynamic allocation: " + r.out());
        assertTrue(r.out().contains("done: run yarn-dynamic, 1 epochs"), r.out());
    }

    @Test
    @Order(6)
    void aKilledApplicationMasterIsRetriedAndContinuesTheSameRun() throws Exception {
        String table = hadoop.uri("/team/retried");
        CompletableFuture<Submit.Result> run = CompletableFuture.supplyAsync(() -> {
            try {
                return onYarn("cluster").run(train(table, 4, 30000));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        // once epoch 1 is saved, kill the driver (the application master's JVM) as a lost node would
        String appId = null;
        ProcessHandle am = null;
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
        while (am == null && System.nanoTime() < deadline && !run.isDone()) {
            Thread.sleep(200);
            FileStatus[] saved = hadoop.fs().globStatus(new org.apache.hadoop.fs.Path(table
                    + "/models/application_*/checkpoints/epoch-0001.zip"));
            if (saved != null && saved.length == 1) {
                Matcher m = APP_ID.matcher(saved[0].getPath().toString());
                assertTrue(m.find());
                appId = m.group(1);
                String attempt1 = appId.replace("application_", "container_") + "_01_000001";
                // the JVM itself, not the container's launch shell (whose command line names the same container):
                // killing the shell would orphan the JVM, which would go on running outside YARN's control
                am = ProcessHandle.current().descendants()
                        .filter(p -> p.info().command().filter(c -> c.endsWith("/java")).isPresent())
                        .filter(p -> p.info().arguments().map(a -> String.join(" ", a))
                                .filter(a -> a.contains("ApplicationMaster") && a.contains(attempt1)).isPresent())
                        .findFirst().orElse(null);
            }
        }
        assertTrue(am != null, "found the running application master after its first epoch");
        am.destroyForcibly();
        Submit.Result r = run.get(6, TimeUnit.MINUTES);
        String driverOut = containerLog(appId, "stdout");
        assertEquals(0, r.exit(), r.both() + driverOut);
        assertTrue(r.err().contains("final status: SUCCEEDED"), r.err());
        assertTrue(driverOut.contains("attempt 2 of application " + appId + ": continuing run " + appId),
                "attempt 2 continued the run: " + driverOut);
        Submit.Result rows = submit().run("sql", "SELECT run_id, count(*) AS n, count(DISTINCT epoch) AS epochs,"
                + " min(epoch) AS first, max(epoch) AS last FROM metrics GROUP BY run_id", "--metrics", table,
                "--format", "csv");
        assertEquals("run_id,n,epochs,first,last\n" + appId + ",4,4,1,4\n", rows.out(),
                "one run, each epoch once: " + rows.both());
    }

    /**
     * The Spark ML face on HDFS: a model the job trained on YARN (its model.zip on HDFS) loads as a
     * DropoutMlpModel, and an Estimator's model saved to HDFS loads back to identical predictions.
     */
    @Test
    @Order(7)
    void sparkMlModelsSaveAndLoadOnHdfs() throws Exception {
        try {
            saveAndLoadOnHdfs(TestSpark.get());
        } finally {
            TestSpark.stop(); // the cluster tests after this one share the JVM
        }
    }

    private void saveAndLoadOnHdfs(SparkSession spark) throws Exception {
        org.apache.hadoop.conf.Configuration conf = spark.sparkContext().hadoopConfiguration();
        Dataset<Row> train = MnistFrames.of(spark, FashionMnist.train(TestData.realData(), 1024, conf), 2, 1L);
        Dataset<Row> test = MnistFrames.of(spark, FashionMnist.test(TestData.realData(), 300, conf), 1, null).cache();

        FileStatus[] saved = hadoop.fs().globStatus(new org.apache.hadoop.fs.Path(hadoop.uri("/team/*/models/*/model.zip")));
        assertTrue(saved != null && saved.length > 0, "the job saved its models on HDFS");
        DropoutMlpModel fromJob = DropoutMlpModel.load(saved[0].getPath().toString());
        // the network read from HDFS is the one the job saved: the same predictions as from a local copy of the zip
        java.nio.file.Path local = java.nio.file.Files.createTempDirectory("yarn-model").resolve("model.zip");
        hadoop.fs().copyToLocalFile(saved[0].getPath(), new org.apache.hadoop.fs.Path(local.toUri()));
        List<String> fromHdfs = predictions(fromJob.transform(test));
        assertEquals(300, fromHdfs.size());
        assertEquals(predictions(DropoutMlpModel.load(local.toString()).transform(test)), fromHdfs);
        org.apache.hadoop.fs.FileSystem.getLocal(conf).delete( // the copy and Hadoop's .crc beside it
                new org.apache.hadoop.fs.Path(local.getParent().toUri()), true);

        DropoutMlpModel model = new DropoutMlpClassifier().setEpochs(1).setWorkers(2).fit(train);
        String path = hadoop.uri("/team/spark-ml/model");
        model.write().save(path);
        assertTrue(hadoop.fs().exists(new org.apache.hadoop.fs.Path(path + "/data/network.zip")));
        assertTrue(hadoop.fs().exists(new org.apache.hadoop.fs.Path(path + "/metadata")));
        assertEquals(predictions(model.transform(test)), predictions(DropoutMlpModel.load(path).transform(test)));
    }

    private static List<String> predictions(Dataset<Row> frame) {
        return frame.select("prediction", "probability").collectAsList().stream()
                .map(r -> r.getDouble(0) + " " + r.get(1)).toList();
    }
}
