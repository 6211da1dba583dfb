package io.github.sparkdropout.cli;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** The SparkSession of a command: spark-submit's settings when there are any, else local mode on every core. */
final class SparkSessions {
    private SparkSessions() {
    }

    /** The environment variable a standalone worker hands the processes it starts the application's secret in. */
    private static final String WORKER_SECRET = "_SPARK_AUTH_SECRET";

    static SparkSession get(String appName) {
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
        return b.getOrCreate();
    }
}
