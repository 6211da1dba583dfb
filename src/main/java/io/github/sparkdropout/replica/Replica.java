package io.github.sparkdropout.replica;

import io.github.sparkdropout.data.Shuffle;
import io.github.sparkdropout.model.MinibatchStep;
import io.github.sparkdropout.model.ParamVectors;
import io.github.sparkdropout.model.StepKind;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.concurrency.AffinityManager;
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
    private final Map<Long, INDArray[]> batchBuffers = new HashMap<>();
    private long permSeed;
    private int[] perm;
    private long holding = ReplicaCache.UNNAMED; // names the parameters this replica holds, see ReplicaCache

    /** A network of {@code confJson} holding {@code params}: DL4J skips its random weight initialisation. */
    Replica(String confJson, float[] params) {
        net = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(confJson));
        net.init(ParamVectors.fromFloats(params), false);
    }

    public MultiLayerNetwork net() {
        return net;
    }

    /** The name of the parameters this replica holds ({@link ReplicaCache#UNNAMED}: not known). */
    public long holding() {
        return holding;
    }

    /** Names the parameters this replica now holds; {@link ReplicaCache#UNNAMED} before changing them. */
    public void holding(long name) {
        holding = name;
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
     * Rows {@code idx} of the shard's features and labels, gathered into this replica's buffers: one native memcpy a
     * row through the host buffers (ND4J's pullRows cost ~0.2 ms a 128-row minibatch here, 10% of the step's GEMMs;
     * a bulk NIO put a row 55 us, memcpy 23 us, two workers at once).
     */
    public INDArray[] gather(INDArray features, INDArray labels, int[] idx) {
        INDArray[] b = batchBuffers.computeIfAbsent((long) idx.length, n -> new INDArray[]{
                Nd4j.createUninitialized(features.dataType(), n, features.size(1)),
                Nd4j.createUninitialized(labels.dataType(), n, labels.size(1))});
        copyRows(features, b[0], idx);
        copyRows(labels, b[1], idx);
        return b;
    }

    /** {@code dst[i] = src[idx[i]]} for c-ordered float matrices, on the host (CUDA: the device copy follows). */
    private static void copyRows(INDArray src, INDArray dst, int[] idx) {
        if (src.dataType() != DataType.FLOAT || src.ordering() != 'c' || !src.isMatrix()
                || src.elementWiseStride() != 1 || dst.dataType() != DataType.FLOAT || dst.ordering() != 'c') {
            Nd4j.pullRows(src, dst, 1, idx);
            return;
        }
        AffinityManager affinity = Nd4j.getAffinityManager();
        affinity.ensureLocation(src, AffinityManager.Location.HOST);
        // memcpy checks nothing: a wrong index or buffer would corrupt memory, not throw
        if (dst.size(1) != src.size(1) || dst.size(0) < idx.length) {
            throw new IllegalArgumentException("minibatch buffer " + java.util.Arrays.toString(dst.shape())
                    + " cannot take " + idx.length + " rows of " + src.size(1));
        }
        for (int i : idx) {
            if (i < 0 || i >= src.size(0)) {
                throw new IndexOutOfBoundsException("row " + i + " of a shard of " + src.size(0));
            }
        }
        long row = src.size(1) * Float.BYTES;
        BytePointer from = new BytePointer(src.data().addressPointer());
        BytePointer to = new BytePointer(dst.data().addressPointer());
        long srcOffset = bytesIntoPointer(src);
        long dstOffset = bytesIntoPointer(dst);
        for (int i = 0; i < idx.length; i++) {
            Pointer.memcpy(to.position(dstOffset + i * row), from.position(srcOffset + idx[i] * row), row);
        }
        affinity.tagLocation(dst, AffinityManager.Location.HOST);
    }

    /**
     * Where {@code a}'s first element lies after its buffer's address pointer, in bytes (Pointer.memcpy counts its
     * pointers' positions in bytes): the pointer of a view's buffer already starts at the buffer's own offset.
     */
    private static long bytesIntoPointer(INDArray a) {
        return (a.offset() - a.data().offset()) * Float.BYTES;
    }
}
