package io.github.sparkdropout.train.transport;

import java.io.Serializable;

/** The driver's reply to every worker of a round: the mean of their parameters (null: no worker trained). */
record RoundMean(float[] params) implements Serializable {
}
