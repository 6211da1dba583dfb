package io.github.sparkdropout.replica;

import org.nd4j.linalg.factory.Nd4j;

/**
 * Caps ND4J's native threads (OpenBLAS and its own OpenMP pool) in this JVM. Several worker tasks share one
 * executor JVM; left at its default each would start a thread per core and they would fight over the cores
 * (measured here: 2 workers in local[2] trained an epoch in 3.0 s with default threads, 1.7 s with one each).
 *
 * <p>Part of the cap is per thread: libnd4j's element-wise ops size their OpenMP team from the calling thread's
 * own setting ({@code setMaxMasterThreads}), so every task thread must set it, not only the first one in the JVM.
 * Measured on 2 cores, two threads each running ND4J ops on a 128 x 256 array: 23-25 us an op when only another
 * thread had set the cap, 14-17 us when each thread set its own.
 */
public final class NativeThreads {
    private static volatile int current = -1;
    private static final ThreadLocal<Integer> THIS_THREAD = new ThreadLocal<>();

    private NativeThreads() {
    }

    /** Caps this JVM's native threads, and the calling thread's own OpenMP team, at {@code threads}. */
    public static void limit(int threads) {
        if (threads < 1) {
            return;
        }
        if (threads != current) {
            synchronized (NativeThreads.class) {
                Nd4j.factory().blas().setMaxThreads(threads);
                Nd4j.getEnvironment().setMaxThreads(threads);
                current = threads;
            }
        }
        Integer mine = THIS_THREAD.get();
        if (mine == null || mine != threads) {
            Nd4j.getEnvironment().setMaxMasterThreads(threads);
            THIS_THREAD.set(threads);
        }
    }
}
