package io.github.sparkdropout.job;

import io.github.sparkdropout.metrics.EpochRecord;
import io.github.sparkdropout.train.stats.RoundListener;

import java.io.PrintStream;

/** What a run tells its user: the run's lines, and progress within an epoch. */
public interface RunOutput extends RoundListener {
    PrintStream out();

    /** A new epoch starts (progress restarts). */
    default void epochStarts(int epoch, int epochs) {
    }

    /** Before a normal line is printed (a progress line in place must go). */
    default void clearProgress() {
    }

    /** Progress within an epoch: by default not shown (a log gets a line per epoch). */
    @Override
    default void roundDone(int round, int rounds, long examplesDone, long examplesTotal) {
    }

    /** An epoch is trained, evaluated and queued for the table. */
    default void epochDone(EpochRecord record) {
    }
}
