package io.github.sparkdropout.metrics;

import io.github.sparkdropout.concurrent.DaemonThreads;
import org.apache.spark.sql.Row;

import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Appends each finished epoch to the {@link MetricsTable} on a background thread, so the next epoch trains while
 * the driver writes and publishes the Parquet files (no Spark job: see {@link MetricsTable}), then whatever the
 * epoch publishes after its rows (its checkpoint).
 * At most one epoch is in flight: queuing epoch N first waits until epoch N-1 is published, so rows land in
 * order, and {@link #close()} waits for the last one — also when training fails, so a failure in epoch 7 still
 * leaves epochs 1-6 in the table. A write error surfaces on the next call.
 */
public final class EpochAppender implements AutoCloseable {
    private final MetricsTable table;
    private final ExecutorService writer = Executors.newSingleThreadExecutor(DaemonThreads.named("metrics-writer"));
    private Future<?> inFlight;

    public EpochAppender(MetricsTable table) {
        this.table = table;
    }

    /**
     * Queues the epoch's rows once the previous epoch's are published, and {@code thenDo} once they are (the
     * epoch's checkpoint: published after its rows, so a checkpoint always has them).
     */
    public void append(Row epochRow, List<Row> classRows, String runId, int epoch, Runnable thenDo) {
        awaitInFlight();
        inFlight = writer.submit(() -> {
            table.appendEpoch(epochRow, classRows, runId, epoch);
            thenDo.run();
        });
    }

    private void awaitInFlight() {
        if (inFlight == null) {
            return;
        }
        try {
            inFlight.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while writing metrics", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException ? (RuntimeException) e.getCause()
                    : new IllegalStateException(e.getCause());
        } finally {
            inFlight = null;
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
}
