package io.github.sparkdropout.train.transport;

import java.io.Serializable;
import java.util.List;

/**
 * What the workers' {@link EpochEndTask} returned at the end of the epoch, by partition (null for a partition
 * without end data), and the seconds the slowest worker spent on it (the part of the stage that was not training).
 */
public record EpochEnd(List<Serializable> results, double seconds) {
}
