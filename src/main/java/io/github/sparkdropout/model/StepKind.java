package io.github.sparkdropout.model;

/** How a worker takes one minibatch SGD step on its replica. */
public enum StepKind {
    /** {@link LeanSgdStep}: the network's forward/backward/update written directly as ND4J ops. */
    LEAN,
    /** DL4J's own {@code MultiLayerNetwork.fit(DataSet)}. */
    DL4J
}
