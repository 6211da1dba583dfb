package io.github.sparkdropout.cli;

import io.github.sparkdropout.job.RunOutput;

import java.io.PrintStream;

/**
 * Progress within an epoch: on a terminal one line rewritten in place; in a log, a line every 10 seconds.
 * Rounds are reported from the driver's training thread (one Spark job per round) or, in barrier mode, from
 * Spark's RPC thread or (local mode) a worker's task thread, hence the synchronisation.
 */
final class ProgressPrinter implements RunOutput {
    private static final long LOG_INTERVAL_NANOS = 10_000_000_000L;

    private final PrintStream out;
    private final boolean terminal = System.console() != null;
    private long epochStart = System.nanoTime();
    private long lastPrint = System.nanoTime();
    private int epoch = 1;
    private boolean dirty;

    ProgressPrinter(PrintStream out) {
        this.out = out;
    }

    @Override
    public PrintStream out() {
        return out;
    }

    @Override
    public synchronized void epochStarts(int epoch, int epochs) {
        this.epoch = epoch;
        this.epochStart = System.nanoTime();
        this.lastPrint = epochStart;
    }

    @Override
    public synchronized void roundDone(int round, int rounds, long examplesDone, long examplesTotal) {
        long now = System.nanoTime();
        double seconds = (now - epochStart) / 1e9;
        double rate = examplesDone / Math.max(seconds, 1e-9);
        double eta = (examplesTotal - examplesDone) / Math.max(rate, 1e-9);
        String line = String.format("epoch %d: round %d/%d, %d/%d examples, %.0f ex/s, ETA %.1f s", epoch, round,
                rounds, examplesDone, examplesTotal, rate, eta);
        if (terminal) {
            out.print("\r" + line + "   ");
            out.flush();
            dirty = true;
        } else if (now - lastPrint >= LOG_INTERVAL_NANOS && round < rounds) {
            out.println(line);
            lastPrint = now;
        }
    }

    @Override
    public synchronized void clearProgress() {
        if (dirty) {
            out.print("\r" + " ".repeat(100) + "\r");
            dirty = false;
        }
    }
}
