package io.github.sparkdropout.train.worker;

import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;

/**
 * Failures a test asks for, to exercise recovery: {@code ATTEMPT:PARTITION:ROUND[:EPOCH]} in the Spark local
 * property {@value #PROPERTY} or the Spark setting {@value #SETTING} (e.g. {@code --conf} of a submission) makes
 * that worker fail in that round of that attempt of every epoch (or of 1-based epoch EPOCH only). Both reach the worker wherever it runs; unset, they cost two
 * lookups per round. An attempt counts the epoch's barrier attempts and Spark's retries of a task (jobs mode).
 */
public final class FaultInjection {
    public static final String PROPERTY = "sparkdropout.test.failWorker";
    public static final String SETTING = "spark.sparkdropout.test.failWorker";

    private FaultInjection() {
    }

    static void check(int attempt, int partition, int round, int epoch) {
        TaskContext ctx = TaskContext.get();
        String spec = ctx == null ? null : ctx.getLocalProperty(PROPERTY);
        if (spec == null && SparkEnv.get() != null) {
            spec = SparkEnv.get().conf().get(SETTING, null);
        }
        int tried = attempt + (ctx == null ? 0 : ctx.attemptNumber());
        String here = tried + ":" + partition + ":" + round;
        if (spec != null && (spec.equals(here) || spec.equals(here + ":" + epoch))) {
            throw new IllegalStateException("failure injected by a test (" + PROPERTY + "=" + spec + ")");
        }
    }
}
