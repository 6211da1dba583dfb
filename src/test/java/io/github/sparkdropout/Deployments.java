package io.github.sparkdropout;

import io.github.sparkdropout.spark.Deployment;

/** Deployments of the tests' choosing, for the decisions that depend on one (no Spark needed). */
public final class Deployments {
    private Deployments() {
    }

    /** A cluster of default parallelism {@code parallelism} whose executors have {@code cores} and {@code slots}. */
    public static Deployment of(int parallelism, int cores, int slots) {
        return new Deployment(false, parallelism, cores, slots, slots, 1, 4, false, 600_000);
    }

    /** A cluster whose registered executors offer {@code concurrentSlots} task slots. */
    public static Deployment withSlots(int concurrentSlots, boolean dynamicAllocation) {
        return new Deployment(false, concurrentSlots, 1, 1, concurrentSlots, concurrentSlots, 4, dynamicAllocation,
                600_000);
    }
}
