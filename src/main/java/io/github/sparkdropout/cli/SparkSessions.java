package io.github.sparkdropout.cli;

import io.github.sparkdropout.config.UsageException;
import io.github.sparkdropout.train.worker.ExecutorWarmUp;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

import java.util.ArrayList;
import java.util.List;

/** The SparkSession of a command: spark-submit's settings when there are any, else local mode on every core. */
final class SparkSessions {
    private SparkSessions() {
    }

    /** The environment variable a standalone worker hands the processes it starts the application's secret in. */
    private static final String WORKER_SECRET = "_SPARK_AUTH_SECRET";

    /** The session of a command that needs no replicas in its executors (sql, plot). */
    static SparkSession get(String appName) {
        return get(appName, false);
    }

    /**
     * The session of a command; {@code replicas}: its executors build model replicas (train, evaluate, predict), so on
     * a cluster each new executor prepares for them as it starts ({@link ExecutorWarmUp}).
     */
    static SparkSession get(String appName, boolean replicas) {
        // A driver started by a standalone worker (cluster deploy mode) gets the application's secret only in its
        // environment (the worker strips it from the command line), but Spark 3.5 requires it in the driver's
        // settings: take it from there, inside this JVM, never onto a command line.
        if (Boolean.parseBoolean(System.getProperty("spark.authenticate"))
                && System.getProperty("spark.authenticate.secret") == null && System.getenv(WORKER_SECRET) != null) {
            System.setProperty("spark.authenticate.secret", System.getenv(WORKER_SECRET));
        }
        SparkConf conf = new SparkConf(); // picks up spark.* from spark-submit or -D system properties
        SparkSession.Builder b = SparkSession.builder().appName(appName)
                // our own progress line replaces Spark's console progress bar
                .config("spark.ui.showConsoleProgress", "false")
                // v1 commits a task's output only at job commit; we publish single files by rename on top of it
                .config("spark.hadoop.mapreduce.fileoutputcommitter.algorithm.version", "1")
                .config("spark.sql.parquet.compression.codec", "snappy")
                .config("spark.sql.debug.maxToStringFields", "100");
        if (!conf.contains("spark.master")) {
            b.master("local[*]");
        }
        // local mode reads every broadcast in the JVM that made it: compressing its blocks (the data's 47 MB of
        // chunks, LZ4) is work for no reader
        if (conf.get("spark.master", "local").startsWith("local") && !conf.contains("spark.broadcast.compress")) {
            b.config("spark.broadcast.compress", "false");
        }
        // on a cluster a new executor prepares for replicas as it starts, beside its first tasks (caching the data);
        // in local mode the executor is this JVM, which loads the same classes for the driver's own use anyway
        if (replicas && !conf.get("spark.master", "local").startsWith("local") && warmUp(conf)) {
            b.config("spark.plugins", withWarmUp(conf.get("spark.plugins", "")));
        }
        return b.getOrCreate();
    }

    /** {@code --conf spark.sparkdropout.executorWarmUp=false} turns the executors' warm-up off. */
    static final String WARM_UP = "spark.sparkdropout.executorWarmUp";

    /** Whether the executors warm up: {@link #WARM_UP} as set, true by default; any other value than true or false
     * is the user's mistake, refused before the session starts. */
    static boolean warmUp(SparkConf conf) {
        String value = conf.get(WARM_UP, "true").strip();
        if (value.equalsIgnoreCase("true") || value.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(value);
        }
        throw new UsageException(WARM_UP + " must be true or false, not '" + value + "'");
    }

    /** The user's {@code spark.plugins} (a comma-separated list, maybe empty) with the executors' warm-up added. */
    static String withWarmUp(String plugins) {
        String ours = ExecutorWarmUp.class.getName();
        List<String> all = new ArrayList<>();
        for (String p : plugins.split(",")) {
            if (!p.isBlank() && !p.strip().equals(ours)) {
                all.add(p.strip());
            }
        }
        all.add(ours);
        return String.join(",", all);
    }
}
