package io.github.sparkdropout.metrics;

import io.github.sparkdropout.concurrent.DaemonThreads;
import org.apache.spark.sql.Row;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntConsumer;

/**
 * Appends each finished epoch to the {@link MetricsTable} on a background thread, so the next epoch trains while
 * the driver writes and publishes the Parquet files (no Spark job: see {@link MetricsTable}), then whatever the
 * epoch publishes after its rows (its checkpoint).
 * At most one epoch is in flight: queuing epoch N first waits until epoch N-1 is published, so rows land in
 * order, and {@link #close()} waits for the last one — also when training fails, so a failure in epoch 7 still
 * leaves epochs 1-6 in the table. A write error surfaces on the next call. {@link #stop} (a JVM shutting down) lets
 * the epoch in flight finish and queues none after it.
 */
public final class EpochAppender implements AutoCloseable {
    private final MetricsTable table;
    private final IntConsumer mayWrite;
    private final ExecutorService writer = Executors.newSingleThreadExecutor(DaemonThreads.named("metrics-writer"));
    private Future<?> inFlight; // guarded by this
    private Publication publishing; // inFlight's work; guarded by this
    private boolean stopped; // guarded by this

    /**
     * {@code mayWrite} runs on the writer thread before each of epoch N's writes (its rows, its checkpoint), given N;
     * it throws to stop them (the run's claim, lost to another driver). Its exception is reported as a write error.
     */
    public EpochAppender(MetricsTable table, IntConsumer mayWrite) {
        this.table = table;
        this.mayWrite = mayWrite;
    }

    /**
     * Queues the epoch's rows once the previous epoch's are published, and {@code thenDo} once they are (the
     * epoch's checkpoint: published after its rows, so a checkpoint always has them).
     */
    public void append(Row epochRow, List<Row> classRows, String runId, int epoch, Runnable thenDo) {
        awaitInFlight();
        List<Runnable> steps = new ArrayList<>(table.appendEpochSteps(epochRow, classRows, runId, epoch));
        steps.add(thenDo);
        synchronized (this) {
            if (stopped) {
                throw new IllegalStateException("epoch " + epoch + " of run " + runId + " is not recorded: the"
                        + " metrics writer is stopped");
            }
            publishing = new Publication(steps, () -> mayWrite.accept(epoch));
            inFlight = writer.submit(publishing);
        }
    }

    /**
     * Queues no further epoch and waits up to {@code timeout} for the one in flight (its rows, then its checkpoint)
     * to be published; if it failed, tries its remaining steps once more in this thread (a Ctrl-C reaches every
     * process of the terminal's group, also a {@code chmod} Hadoop's local filesystem runs for a new file). Returns
     * whether it is published. Called from another thread than {@link #append}'s.
     */
    public boolean stop(long timeout, TimeUnit unit) {
        Future<?> last;
        Publication work;
        synchronized (this) {
            stopped = true;
            last = inFlight;
            work = publishing;
        }
        if (last == null) {
            return true;
        }
        try {
            last.get(timeout, unit);
            return true;
        } catch (ExecutionException failed) {
            try {
                work.run();
                return true;
            } catch (RuntimeException again) { // the thread that queued it reports the first failure
                return false;
            }
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void awaitInFlight() {
        Future<?> last;
        synchronized (this) {
            last = inFlight;
        }
        if (last == null) {
            return;
        }
        try {
            last.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while writing metrics", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException ? (RuntimeException) e.getCause()
                    : new IllegalStateException(e.getCause());
        } finally {
            synchronized (this) {
                if (inFlight == last) {
                    inFlight = null;
                    publishing = null;
                }
            }
        }
    }

    /** Waits until every queued epoch is published. */
    @Override
    public void close() {
        try {
            awaitInFlight();
        } finally {
            writer.shutdown();
        }
    }

    /**
     * An epoch's files, published one by one in order; run again after a failure, it goes on from the step that
     * failed (a step that failed published nothing: each file appears by its last act, a rename).
     */
    private static final class Publication implements Runnable {
        private final List<Runnable> steps;
        private final Runnable mayWrite;
        private int done; // guarded by this

        Publication(List<Runnable> steps, Runnable mayWrite) {
            this.steps = List.copyOf(steps);
            this.mayWrite = mayWrite;
        }

        @Override
        public synchronized void run() {
            while (done < steps.size()) {
                mayWrite.run();
                steps.get(done).run();
                done++;
            }
        }
    }
}
