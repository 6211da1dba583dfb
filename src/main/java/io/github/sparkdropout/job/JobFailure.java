package io.github.sparkdropout.job;

import io.github.sparkdropout.spark.SparkFailures;

/**
 * A job that failed for a reason other than its input: the message is one line saying what failed and where, and
 * what the user can do next (e.g. the resume command); the cause keeps the full trace for the log.
 */
public final class JobFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public JobFailure(String message, Throwable cause) {
        super(message, cause);
    }

    /** A one-line summary of {@code e}, naming what failed in Spark's failures too. */
    public static String rootMessage(Throwable e) {
        return SparkFailures.summary(e);
    }
}
