package io.github.sparkdropout.train.transport;

import io.github.sparkdropout.train.aggregate.Contribution;

import java.io.Serializable;

/** A worker's message to the driver's averaging endpoint after a round (barrier mode). */
record AverageRequest(int stageId, int stageAttempt, int round, int partition, int partitions,
                      Contribution contribution) implements Serializable {
}
