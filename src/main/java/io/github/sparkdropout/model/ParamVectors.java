package io.github.sparkdropout.model;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.concurrency.AffinityManager;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;

/**
 * A network's parameters as the {@code float[]} that travels between workers and driver. Copied in bulk through
 * the parameter buffer's NIO view: ND4J's {@code toFloatVector} and {@code Nd4j.create(float[])} copy element by
 * element through Java calls (with a fresh native buffer each time), on every averaging round.
 */
public final class ParamVectors {
    private ParamVectors() {
    }

    /** A new array holding {@code net}'s current parameters. */
    public static float[] get(MultiLayerNetwork net) {
        return toFloats(net.params());
    }

    /** A new heap array holding the values of the (row) vector {@code p}. */
    public static float[] toFloats(INDArray p) {
        FloatBuffer view = bulkView(p);
        if (view == null) {
            return p.toFloatVector();
        }
        Nd4j.getAffinityManager().ensureLocation(p, AffinityManager.Location.HOST); // CUDA: bring the host copy up to date
        float[] out = new float[(int) p.length()];
        view.get(out);
        return out;
    }

    /**
     * A new native row vector holding {@code values}, copied in bulk: ND4J's {@code Nd4j.create(float[])} copies value
     * by value through the buffer's checks, 1.6 ms for a 1 MB message under C1 (35 ms cold, as in the first epoch)
     * against 0.65 ms, every averaging round on both sides.
     */
    public static INDArray fromFloats(float[] values) {
        INDArray out = values.length == 0 ? null : Nd4j.createUninitialized(DataType.FLOAT, 1, values.length);
        FloatBuffer view = out == null ? null : bulkView(out);
        if (view == null) {
            return Nd4j.create(values, new long[]{1, values.length}, 'c');
        }
        view.put(values);
        Nd4j.getAffinityManager().tagLocation(out, AffinityManager.Location.HOST); // CUDA: the device copy is stale
        return out;
    }

    /** Overwrites {@code net}'s parameters with the vector {@code values} (same length), in place, natively. */
    public static void set(MultiLayerNetwork net, INDArray values) {
        INDArray p = net.params();
        if (p.length() != values.length()) {
            throw new IllegalArgumentException("parameter vector of " + values.length() + " values for a network of "
                    + p.length());
        }
        HostBlas.copy(values, p);
    }

    /** Overwrites {@code net}'s parameters with {@code values} (same length), in place. */
    public static void set(MultiLayerNetwork net, float[] values) {
        INDArray p = net.params();
        if (p.length() != values.length) {
            throw new IllegalArgumentException("parameter vector of " + values.length + " values for a network of "
                    + p.length());
        }
        FloatBuffer view = bulkView(p);
        if (view == null) {
            net.setParams(fromFloats(values));
        } else {
            Nd4j.getAffinityManager().ensureLocation(p, AffinityManager.Location.HOST);
            view.put(values);
            Nd4j.getAffinityManager().tagLocation(p, AffinityManager.Location.HOST); // CUDA: the device copy is stale
        }
    }

    /** The NIO view of a contiguous float parameter vector that starts its buffer, or null. */
    private static FloatBuffer bulkView(INDArray p) {
        if (p.dataType() != DataType.FLOAT || p.offset() != 0 || p.data().length() < p.length()
                || (p.rank() == 2 && p.size(0) != 1) || p.elementWiseStride() != 1) {
            return null;
        }
        FloatBuffer view = p.data().asNioFloat();
        view.position(0);
        view.limit((int) p.length());
        return view;
    }
}
