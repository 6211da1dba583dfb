package io.github.sparkdropout.metrics;

import java.sql.Timestamp;

/** One epoch's results: the seed's three numbers plus timings. */
public record EpochRecord(int epoch, double trainLoss, double trainAcc, double testAcc, double trainSeconds,
                          double evalSeconds, long trainExamples, Timestamp startedAt, Timestamp endedAt) {

    public double examplesPerSecond() {
        return trainSeconds > 0 ? trainExamples / trainSeconds : Double.NaN;
    }
}
