package io.github.sparkdropout.train.worker;

import java.util.Arrays;

/**
 * The order a worker visits its shard in one epoch: minibatch k is positions {@code k * batch ..} of the epoch's
 * shuffle ({@link Seeds#shuffle}), the last one shorter. Our workers and DL4J's stock master cut the same way.
 */
public final class EpochOrder {
    private EpochOrder() {
    }

    /** How many minibatches of {@code batch} examples {@code n} examples make. */
    public static int minibatches(int n, int batch) {
        return (n + batch - 1) / batch;
    }

    /** The shard positions of minibatch {@code k}. */
    public static int[] minibatch(int[] order, int k, int batch) {
        int from = k * batch;
        return Arrays.copyOfRange(order, from, Math.min(order.length, from + batch));
    }
}
