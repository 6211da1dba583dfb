package io.github.sparkdropout.train;

import io.github.sparkdropout.data.Shuffle;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.HashMap;
import java.util.Map;

/**
 * A model replica living in an executor JVM, with its training step, its current shuffle of the shard and the
 * reusable minibatch buffers the shard's rows are gathered into (one native call a batch, no per-step allocation).
 */
public final class Replica {
    private final MultiLayerNetwork net;
    private final Map<StepKind, MinibatchStep> steps = new HashMap<>();
    private final Map<Long, INDArray[]> batchBuffers = new HashMap<>();
    private int permEpoch = -1;
    private int[] perm;

    Replica(String confJson) {
        net = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(confJson));
        net.init();
    }

    public MultiLayerNetwork net() {
        return net;
    }

    MinibatchStep step(StepKind kind) {
        return steps.computeIfAbsent(kind, MinibatchStep::of);
    }

    /** This epoch's shuffle of the shard's {@code n} examples (computed once per epoch). */
    int[] permutation(int epoch, int n, long permSeed) {
        if (permEpoch != epoch || perm == null || perm.length != n) {
            perm = Shuffle.permutation(n, permSeed);
            permEpoch = epoch;
        }
        return perm;
    }

    /** Rows {@code idx} of the shard's features and labels, gathered into this replica's buffers. */
    INDArray[] gather(INDArray features, INDArray labels, int[] idx) {
        INDArray[] b = batchBuffers.computeIfAbsent((long) idx.length, n -> new INDArray[]{
                Nd4j.createUninitialized(features.dataType(), n, features.size(1)),
                Nd4j.createUninitialized(labels.dataType(), n, labels.size(1))});
        Nd4j.pullRows(features, b[0], 1, idx);
        Nd4j.pullRows(labels, b[1], 1, idx);
        return b;
    }
}
