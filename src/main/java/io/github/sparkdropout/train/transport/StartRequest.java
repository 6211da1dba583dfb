package io.github.sparkdropout.train.transport;

import java.io.Serializable;

/**
 * A worker's request for its epoch's starting parameters (barrier mode), sent only when its replica does not hold
 * them already: the first epoch, a replica built anew, a retried epoch. The reply is the driver's {@code float[]}
 * (in the driver's JVM the array itself: the replica copies it, never keeps it).
 */
record StartRequest(int stageId, int stageAttempt, int partition) implements Serializable {
}
