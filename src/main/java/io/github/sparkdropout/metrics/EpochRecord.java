package io.github.sparkdropout.metrics;

import java.sql.Timestamp;

/**
 * One epoch's results: the seed's three numbers plus timings, and where the epoch's checkpoint is. {@code workerBusySeconds}: mean over workers of the
 * time spent inside training tasks (NaN for the stock master); train seconds minus it is the averaging overhead.
 */
public record EpochRecord(int epoch, double trainLoss, double trainAcc, double testAcc, double trainSeconds,
                          double evalSeconds, long trainExamples, double workerBusySeconds, Timestamp startedAt,
                          Timestamp endedAt, String checkpointPath) {

    public double examplesPerSecond() {
        return trainSeconds > 0 ? trainExamples / trainSeconds : Double.NaN;
    }
}
