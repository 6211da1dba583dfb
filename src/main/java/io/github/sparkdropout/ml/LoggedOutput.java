package io.github.sparkdropout.ml;

import io.github.sparkdropout.job.RunOutput;
import org.slf4j.Logger;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * A fit's lines (the run, its data, every epoch) as INFO lines of the Estimator's logger, not on the user's
 * stdout: inside someone else's application the log is where a library speaks. Progress within an epoch is left
 * out (a line per epoch is enough in a log).
 */
final class LoggedOutput implements RunOutput {
    private final PrintStream out;

    LoggedOutput(Logger log) {
        this.out = new PrintStream(new OutputStream() {
            private final ByteArrayOutputStream line = new ByteArrayOutputStream();

            @Override
            public synchronized void write(int b) {
                if (b == '\n') {
                    log.info(line.toString(StandardCharsets.UTF_8));
                    line.reset();
                } else {
                    line.write(b);
                }
            }
        }, true, StandardCharsets.UTF_8);
    }

    @Override
    public PrintStream out() {
        return out;
    }
}
