package io.github.sparkdropout;

import org.apache.spark.sql.SparkSession;

/** One local[2] SparkSession shared by every test class of the run (starting Spark costs seconds). */
public final class TestSpark {
    private static SparkSession spark;

    private TestSpark() {
    }

    public static synchronized SparkSession get() {
        if (spark == null) {
            spark = SparkSession.builder().master("local[2]").appName("tests")
                    .config("spark.ui.enabled", "false")
                    .config("spark.ui.showConsoleProgress", "false")
                    .config("spark.sql.shuffle.partitions", "2")
                    .config("spark.hadoop.mapreduce.fileoutputcommitter.algorithm.version", "1")
                    .getOrCreate();
        }
        return spark;
    }

    /** Stops the shared session (a test class that must leave its JVM without a SparkContext). */
    public static synchronized void stop() {
        if (spark != null) {
            spark.stop();
            spark = null;
        }
    }
}
