package io.github.sparkdropout.train.transport;

import java.io.Serializable;
import java.util.List;

/**
 * What the workers' {@link EpochEndTask} returned at the end of the epoch, by partition, and the seconds the
 * slowest worker spent on it (the part of the epoch's stage that was not training).
 */
public record EpochEnd(List<Serializable> results, double seconds) {
}
