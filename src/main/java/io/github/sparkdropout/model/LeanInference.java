package io.github.sparkdropout.model;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Inference (no dropout) of the network {@link LeanSgdStep} implements, giving DL4J's {@code output(x, false)} bit
 * for bit under every OpenBLAS kernel set (tested under each one the CPU runs): each layer makes DL4J's own GEMM
 * call, {@code X W} into a column-major matrix as DL4J's dense layer allocates it (a row-major result is computed
 * as {@code W^T X^T}, a different call whose sums some kernel sets, Haswell's among them, round differently), its
 * bias by a rank-1 GEMM (the one float addition of DL4J's {@code addiRowVector}), then the layer's own activation
 * function, as DL4J calls it. What it leaves out is DL4J's inference machinery (workspaces, a Java op per call, its
 * bias broadcast). Any other network, and input that is not a float matrix, goes through DL4J's {@code output}.
 */
public final class LeanInference {
    private LeanInference() {
    }

    /** {@code net}'s class probabilities for the rows of {@code x}, as {@code net.output(x, false)} gives them. */
    public static INDArray output(MultiLayerNetwork net, INDArray x) {
        if (x.rank() != 2 || x.dataType() != DataType.FLOAT || x.size(0) == 0
                || !LeanSgdStep.differences(net).isEmpty()) {
            return net.output(x, false);
        }
        long n = x.size(0);
        INDArray ones = Nd4j.ones(DataType.FLOAT, 1, n);
        INDArray in = x;
        for (int i = 0; i < net.getnLayers(); i++) {
            Layer layer = net.getLayer(i);
            INDArray w = layer.getParam("W");
            INDArray b = layer.getParam("b");
            INDArray z = Nd4j.createUninitialized(DataType.FLOAT, new long[]{n, w.size(1)}, 'f'); // as DL4J's
            HostBlas.gemm(in, w, z, false, false, 1.0, 0.0);
            HostBlas.gemm(ones, LeanSgdStep.row(b), z, true, false, 1.0, 1.0);
            INDArray activated = ((BaseLayer) layer.conf().getLayer()).getActivationFn().getActivation(z, false);
            if (in != x && in != activated && in.closeable()) {
                in.close(); // the previous layer's activations: 5 MB a layer for 5,000 examples, freed now
            }
            in = activated;
        }
        ones.close();
        return in;
    }
}
