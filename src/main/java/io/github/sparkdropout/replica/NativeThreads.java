package io.github.sparkdropout.replica;

import org.nd4j.linalg.factory.Nd4j;

/**
 * Caps ND4J's native threads (OpenBLAS and its own OpenMP pool) in this JVM. Several worker tasks share one
 * executor JVM; left at its default each would start a thread per core and they would fight over the cores.
 */
public final class NativeThreads {
    private static volatile int current = -1;

    private NativeThreads() {
    }

    /** For {@link #limit}: leave the native threads as they are (DL4J's stock master sets none). */
    public static final int UNCAPPED = 0;

    public static void limit(int threads) {
        if (threads < 1 || threads == current) {
            return;
        }
        synchronized (NativeThreads.class) {
            Nd4j.factory().blas().setMaxThreads(threads);
            Nd4j.getEnvironment().setMaxThreads(threads);
            Nd4j.getEnvironment().setMaxMasterThreads(threads);
            current = threads;
        }
    }
}
