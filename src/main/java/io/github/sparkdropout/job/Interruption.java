package io.github.sparkdropout.job;

import io.github.sparkdropout.metrics.EpochAppender;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.util.ShutdownHookManager;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * A run whose JVM is told to stop (Ctrl-C: SIGINT; {@code kill}: SIGTERM; a closed terminal: SIGHUP): the epoch in
 * training is abandoned, the epoch being recorded finishes (its rows, then its checkpoint, see {@link EpochLoop}),
 * within a bound, no epoch is recorded after it, and one line on stderr says where the run stopped, what is kept and
 * how to continue. The JVM then exits as it does for the signal (128 + its number: 130, 143).
 *
 * <p>A shutdown hook of Hadoop's {@link ShutdownHookManager}, which runs its hooks one at a time by priority: this
 * one before Spark's (which stops the SparkContext) and the FileSystem cache's (which closes the filesystems the
 * publication writes to). The run's thread goes on meanwhile; it records nothing more and the CLI prints no error
 * for what the shutdown breaks under it.
 */
final class Interruption implements AutoCloseable {
    private static final int PRIORITY = FileSystem.SHUTDOWN_HOOK_PRIORITY + 40; // Spark's hook: + 30
    private static final long WAIT_SECONDS = 20; // for the epoch being recorded: a checkpoint is about a megabyte

    private final String runId;
    private final Supplier<String> keptAndNext;
    private final RunOutput output;
    private final Runnable hook = this::stop;
    private final ReentrantLock recording = new ReentrantLock(); // held while an epoch is recorded or a phase begins
    private volatile boolean stopping;
    private volatile String phase = "while loading its data"; // null: during epoch trained + 1
    private volatile Supplier<String> phaseTail;
    private volatile int trained;
    private volatile int epochs = Integer.MAX_VALUE;
    private volatile EpochAppender appender;

    private Interruption(String runId, int trained, Supplier<String> keptAndNext, RunOutput output) {
        this.runId = runId;
        this.trained = trained;
        this.keptAndNext = keptAndNext;
        this.phaseTail = keptAndNext;
        this.output = output;
    }

    /**
     * Watches run {@code runId}, which holds {@code trained} epochs so far, until {@link #close}; {@code keptAndNext}
     * says, when asked, what is kept and how to continue ({@code "; epochs 1-3 are recorded and saved, continue
     * with ..."}); the line goes after {@code output}'s (its progress line cleared).
     */
    static Interruption watch(String runId, int trained, Supplier<String> keptAndNext, RunOutput output) {
        Interruption i = new Interruption(runId, trained, keptAndNext, output);
        ShutdownHookManager.get().addShutdownHook(i.hook, PRIORITY, WAIT_SECONDS + 10, TimeUnit.SECONDS);
        return i;
    }

    /** A run that records nothing ({@code files} null): nothing to finish or say at the JVM's exit. */
    static Interruption unwatched(String runId) {
        return new Interruption(runId, 0, () -> "", null);
    }

    /**
     * The data is loaded, the run trains up to epoch {@code epochs}: until another phase, it is "during epoch N" (the
     * one after the last recorded).
     */
    void training(int epochs) {
        this.epochs = epochs;
        enter(null, keptAndNext);
    }

    /** Epochs are recorded by {@code appender}: a stop lets its epoch in flight finish. */
    void publishing(EpochAppender appender) {
        this.appender = appender;
    }

    /** Runs {@code record} (epoch {@code epoch}'s recording and its line) unless the run is stopping. */
    void record(int epoch, Runnable record) {
        recording.lock();
        try {
            requireRunning();
            record.run();
            trained = epoch;
        } finally {
            recording.unlock();
        }
    }

    /** The run goes on with {@code phase} ({@code "while saving its final model"}); {@code tail} ends its line. */
    void enter(String phase, Supplier<String> tail) {
        recording.lock();
        try {
            requireRunning();
            this.phase = phase;
            this.phaseTail = tail;
        } finally {
            recording.unlock();
        }
    }

    /** Whether the JVM is stopping under the run (its hook has begun). */
    boolean stopping() {
        return stopping;
    }

    private void requireRunning() {
        if (stopping) {
            throw new JobFailure("run " + runId + " stopped: the JVM is shutting down", null);
        }
    }

    /** The hook: lets the epoch being recorded finish, stops the rest, says what is kept. */
    private void stop() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        boolean locked = false;
        try {
            locked = recording.tryLock(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String where;
        Supplier<String> tail;
        try {
            stopping = true;
            where = phase != null ? phase : trained < epochs ? "during epoch " + (trained + 1)
                    : "after its last epoch";
            tail = phaseTail;
        } finally {
            if (locked) {
                recording.unlock();
            }
        }
        EpochAppender writer = appender;
        if (writer != null) {
            writer.stop(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
        String next;
        try {
            next = tail.get();
        } catch (RuntimeException unknown) {
            next = "";
        }
        output.clearProgress();
        output.out().flush();
        System.err.println("interrupted: run " + runId + " stopped " + where + next);
        System.err.flush();
    }

    /** The run ended (done or failed on its own): no line at the JVM's exit. */
    @Override
    public void close() {
        try {
            ShutdownHookManager.get().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs or has run: its line stands
        }
    }
}
