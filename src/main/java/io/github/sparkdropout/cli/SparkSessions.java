package io.github.sparkdropout.cli;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** The SparkSession of a command: spark-submit's settings when there are any, else local mode on every core. */
final class SparkSessions {
    private SparkSessions() {
    }

    static SparkSession get(String appName) {
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
        return b.getOrCreate();
    }
}
