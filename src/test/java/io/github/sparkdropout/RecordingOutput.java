package io.github.sparkdropout;

import io.github.sparkdropout.job.RunOutput;
import io.github.sparkdropout.metrics.EpochRecord;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/** A training job's output for tests and benchmarks: the printed lines (kept, and echoed if asked) and the epochs. */
public final class RecordingOutput implements RunOutput {
    public final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    public final List<EpochRecord> epochs = new ArrayList<>();
    private final PrintStream out;

    /** Keeps the lines. */
    public RecordingOutput() {
        out = new PrintStream(bytes, true);
    }

    /** Prints the lines to {@code echo} instead of keeping them. */
    public RecordingOutput(PrintStream echo) {
        out = echo;
    }

    public String printed() {
        return bytes.toString();
    }

    @Override
    public PrintStream out() {
        return out;
    }

    @Override
    public void epochDone(EpochRecord record) {
        epochs.add(record);
    }
}
