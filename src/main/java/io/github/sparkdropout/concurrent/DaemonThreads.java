package io.github.sparkdropout.concurrent;

import java.util.concurrent.ThreadFactory;

/**
 * Threads that never keep the JVM alive: a background writer, hasher or watchdog must not hold up the end of a job
 * (or of a driver that failed), whatever it is still doing.
 */
public final class DaemonThreads {
    private DaemonThreads() {
    }

    /** Makes daemon threads all named {@code name} (thread dumps and logs name the work by it). */
    public static ThreadFactory named(String name) {
        return work -> {
            Thread t = new Thread(work, name);
            t.setDaemon(true);
            return t;
        };
    }
}
