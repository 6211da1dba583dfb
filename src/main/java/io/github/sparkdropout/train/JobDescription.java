package io.github.sparkdropout.train;

import org.apache.spark.SparkContext;

/**
 * What the Spark jobs a thread starts next are described as in Spark's UI and history server (instead of the call
 * site, e.g. {@code collect at BarrierTransport.java}), until closed. The caller's own job group and description
 * stay: ours is added after theirs, and closing puts back exactly what was there.
 */
public final class JobDescription implements AutoCloseable {
    private static final String KEY = "spark.job.description"; // SparkContext.SPARK_JOB_DESCRIPTION
    private final SparkContext sc;
    private final String before;

    private JobDescription(SparkContext sc, String before) {
        this.sc = sc;
        this.before = before;
    }

    /** Adds {@code what} to this thread's job description. */
    public static JobDescription add(SparkContext sc, String what) {
        String before = sc.getLocalProperty(KEY);
        sc.setLocalProperty(KEY, before == null || before.isEmpty() ? what : before + ", " + what);
        return new JobDescription(sc, before);
    }

    @Override
    public void close() {
        sc.setLocalProperty(KEY, before); // null removes it
    }
}
