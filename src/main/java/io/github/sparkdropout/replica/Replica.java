package io.github.sparkdropout.replica;

import io.github.sparkdropout.data.Shards;
import io.github.sparkdropout.data.Shuffle;
import io.github.sparkdropout.model.HostBlas;
import io.github.sparkdropout.model.JitChoice;
import io.github.sparkdropout.model.MinibatchStep;
import io.github.sparkdropout.model.ParamVectors;
import io.github.sparkdropout.model.StepKind;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;

/**
 * A model replica living in an executor JVM, with its training steps, its current shuffle of the shard and the
 * reusable minibatch buffers the shard's rows are gathered into (one native call a batch, no per-step allocation).
 */
public final class Replica {
    private final MultiLayerNetwork net;
    private final Map<StepKind, MinibatchStep> steps = new EnumMap<>(StepKind.class);
    private final Map<Long, Buffers> batchBuffers = new HashMap<>(); // by minibatch size and shard kind
    private long permSeed;
    private int[] perm;
    private long holding = ReplicaCache.ANONYMOUS_PARAMS; // the id of the parameters this replica holds, see ReplicaCache

    /**
     * A network of {@code confJson} holding {@code params}: DL4J skips its random weight initialisation. Outside
     * {@link ReplicaCache} (which builds the training's) only for throwaway replicas: the executors' warm-up.
     */
    public Replica(String confJson, float[] params) {
        JitChoice.ourCodeOnC1(); // before this JVM's first steps or scores, whoever builds the replica
        net = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(confJson));
        net.init(ParamVectors.fromFloats(params), false);
    }

    public MultiLayerNetwork net() {
        return net;
    }

    /** The id of the parameters this replica holds ({@link ReplicaCache#ANONYMOUS_PARAMS}: not known). */
    public long holding() {
        return holding;
    }

    /** The id of the parameters this replica now holds; {@link ReplicaCache#ANONYMOUS_PARAMS} before changing them. */
    public void holding(long paramsId) {
        holding = paramsId;
    }

    /** This replica's step of {@code kind} (built, and for the lean step checked against the network, once). */
    public MinibatchStep step(StepKind kind) {
        return steps.computeIfAbsent(kind, k -> MinibatchStep.of(k, net));
    }

    /** The shuffle of the shard's {@code n} examples drawn from {@code seed} (computed once per seed). */
    public int[] permutation(int n, long seed) {
        if (perm == null || perm.length != n || permSeed != seed) {
            perm = Shuffle.permutation(n, seed);
            permSeed = seed;
        }
        return perm;
    }

    /**
     * Rows {@code idx} of the shard's features and labels, gathered into this replica's buffers: the features as
     * float32 whether the shard keeps them so or as bytes ({@link Shards#ofBytes}).
     */
    public INDArray[] gather(INDArray features, INDArray labels, int[] idx) {
        boolean bytes = Shards.asBytes(features);
        Buffers b = batchBuffers.computeIfAbsent(2L * idx.length + (bytes ? 1 : 0), k -> new Buffers(new INDArray[]{
                Nd4j.createUninitialized(bytes ? DataType.FLOAT : features.dataType(), idx.length, features.size(1)),
                Nd4j.createUninitialized(labels.dataType(), idx.length, labels.size(1))},
                bytes ? Nd4j.createUninitialized(DataType.UBYTE, idx.length, features.size(1)) : null));
        if (bytes) {
            HostBlas.copyRows(features, b.bytes(), idx);
            Shards.bytesToFeatures(b.bytes(), b.batch()[0]);
        } else {
            HostBlas.copyRows(features, b.batch()[0], idx);
        }
        HostBlas.copyRows(labels, b.batch()[1], idx);
        return b.batch();
    }

    /** A minibatch's buffers: features (float32) and labels, and the rows' bytes first for a byte shard. */
    private record Buffers(INDArray[] batch, INDArray bytes) {
    }
}
