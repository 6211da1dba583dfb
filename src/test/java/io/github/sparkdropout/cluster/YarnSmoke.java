package io.github.sparkdropout.cluster;

import io.github.sparkdropout.Submit;
import io.github.sparkdropout.TestData;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * bench/yarn-smoke.sh: the job on the YARN minicluster (HDFS + YARN in this JVM, containers as real JVMs) in client
 * deploy mode, 2 executors of 1 core, full data from HDFS, with the rounds log on: where each epoch's time goes
 * (docs/BENCHMARKS.md). Not a test: a program, run by the script; it stops every process it started.
 *
 * <p>Arguments: EPOCHS [more train options].
 */
public final class YarnSmoke {
    private YarnSmoke() {
    }

    public static void main(String[] args) throws Exception {
        int epochs = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        Path work = Files.createTempDirectory("yarn-smoke");
        int exit;
        try (MiniHadoop hadoop = MiniHadoop.start(work)) {
            hadoop.put(Path.of(TestData.realData()), "/datasets/fashion-mnist");
            String sparkHome = SparkHome.path().toString();
            String metrics = hadoop.uri("/bench/metrics");
            Submit submit = new Submit(work.resolve("logs")).env("SPARK_HOME", sparkHome)
                    .env("HADOOP_CONF_DIR", hadoop.confDir().toString()).env("SPARK_LOCAL_IP", "127.0.0.1")
                    .sparkOptions("--master", "yarn", "--deploy-mode", "client", "--num-executors", "2",
                            "--executor-cores", "1", "--executor-memory", "1g",
                            "--conf", "spark.yarn.jars=local:" + SparkHome.path().resolve("jars") + "/*",
                            "--conf", "spark.yarn.appMasterEnv.SPARK_LOCAL_IP=127.0.0.1",
                            "--conf", "spark.executorEnv.SPARK_LOCAL_IP=127.0.0.1",
                            "--driver-java-options", "-Dsparkdropout.rounds=info");
            java.util.List<String> train = new java.util.ArrayList<>(java.util.List.of("train", "--workers", "2",
                    "--epochs", "" + epochs, "--data", hadoop.uri("/datasets/fashion-mnist"), "--metrics", metrics,
                    "--run-id", "yarn-smoke"));
            train.addAll(java.util.List.of(args).subList(Math.min(1, args.length), args.length));
            Submit.Result r = submit.run(30, train.toArray(String[]::new));
            System.out.print(r.out());
            r.err().lines().filter(l -> l.contains("INFO rounds:") || l.startsWith("error")).forEach(System.out::println);
            exit = r.exit();
            if (exit == 0) {
                Submit.Result rows = new Submit(work.resolve("logs")).env("SPARK_HOME", null)
                        .env("HADOOP_CONF_DIR", hadoop.confDir().toString()).env("SPARK_LOCAL_IP", "127.0.0.1")
                        .run("sql", "SELECT epoch, round(train_loss, 4) AS train_loss, round(test_acc, 4) AS test_acc,"
                                + " executor_count, averaging_sync, round(train_seconds, 2) AS train_s,"
                                + " round(worker_busy_seconds, 2) AS busy_s FROM metrics ORDER BY epoch",
                                "--metrics", metrics);
                System.out.print(rows.out());
                exit = rows.exit();
            } else {
                System.out.println(r.err());
            }
        } finally {
            Submit.killDescendants();
        }
        System.exit(exit);
    }
}
