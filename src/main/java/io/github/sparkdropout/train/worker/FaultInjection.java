package io.github.sparkdropout.train.worker;

import org.apache.spark.TaskContext;

/**
 * Failures a test asks for, to exercise recovery: the Spark local property {@value #PROPERTY} =
 * {@code ATTEMPT:PARTITION:ROUND} makes that worker fail in that round of that attempt of every epoch. Local
 * properties travel with the tasks, so it works wherever the worker runs; unset, it costs one lookup per round.
 */
public final class FaultInjection {
    public static final String PROPERTY = "sparkdropout.test.failWorker";

    private FaultInjection() {
    }

    static void check(int attempt, int partition, int round) {
        TaskContext ctx = TaskContext.get();
        String spec = ctx == null ? null : ctx.getLocalProperty(PROPERTY);
        if (spec != null && spec.equals(attempt + ":" + partition + ":" + round)) {
            throw new IllegalStateException("failure injected by a test (" + PROPERTY + "=" + spec + ")");
        }
    }
}
