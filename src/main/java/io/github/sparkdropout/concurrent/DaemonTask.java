package io.github.sparkdropout.concurrent;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * Work started on a named daemon thread (it never keeps the JVM alive) whose result the caller takes later, failing
 * as the work would have failed in the caller's own thread: what start-up overlaps with Spark's session.
 */
public final class DaemonTask<T> {
    private final FutureTask<T> task;

    private DaemonTask(Callable<T> work) {
        this.task = new FutureTask<>(work);
    }

    /** Starts {@code work} on a new daemon thread named {@code threadName}. */
    public static <T> DaemonTask<T> start(String threadName, Callable<T> work) {
        DaemonTask<T> started = new DaemonTask<>(work);
        DaemonThreads.named(threadName).newThread(started.task).start();
        return started;
    }

    /**
     * Waits for the work's result. Its unchecked exception or error is rethrown as it was thrown; a checked one comes
     * wrapped in an {@link IllegalStateException} saying that {@code what} failed.
     */
    public T join(String what) {
        try {
            return task.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(what + " failed", cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + what, e);
        }
    }

    /** Gives up on the result (a thread already running goes on to its end, unused). */
    public void cancel() {
        task.cancel(false);
    }
}
