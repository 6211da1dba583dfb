package io.github.sparkdropout.model;

import org.deeplearning4j.nn.conf.dropout.IDropout;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.random.impl.UniformDistribution;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * The seed's {@code dropout_layer(X, p)}, written with ND4J ops and plugged into DL4J as an {@link IDropout}:
 * {@code p} is the probability of <em>dropping</em> (the book's convention, not DL4J's retain probability);
 * {@code p == 0} returns the input, {@code p == 1} returns zeros, otherwise {@code mask = uniform > p} and the
 * kept values are scaled by {@code 1 / (1 - p)} so that E[output] = input and inference needs no rescaling.
 * DL4J calls it on a layer's input, and only while training.
 */
public final class InvertedDropout implements IDropout {
    private static final long serialVersionUID = 1L;

    @JsonProperty("p")
    private final double p;
    /** The mask of the last forward pass (0 or 1/(1-p)), kept for backprop as DL4J's own Dropout does. */
    private transient INDArray mask;
    /**
     * Where masks are drawn: reused while the activation shape stays the same (every full minibatch), outside any
     * workspace, so a training step does not allocate one per layer.
     */
    private transient INDArray maskBuffer;
    /** The mask's ops (prepared on first use: this object is also built by Jackson and cloned). */
    private transient HostOps.Scalar keep;
    private transient HostOps.Scalar scale;

    public InvertedDropout(@JsonProperty("p") double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("dropout probability must be in [0, 1], got " + p);
        }
        this.p = p;
    }

    /** The probability of dropping an activation. */
    double dropProbability() {
        return p;
    }

    /**
     * The seed's dropout_layer on a plain array: a new array, {@code x} is not modified. Draws from
     * {@code Nd4j.getRandom()} (per thread).
     */
    public static INDArray apply(INDArray x, double p) {
        return new InvertedDropout(p).applyDropout(x, x.ulike(), 0, 0, LayerWorkspaceMgr.noWorkspaces());
    }

    @Override
    public INDArray applyDropout(INDArray input, INDArray result, int iteration, int epoch,
                                 LayerWorkspaceMgr workspaceMgr) {
        if (p == 0) {
            mask = null;
            return result == input ? result : result.assign(input);
        }
        if (p == 1) {
            mask = null;
            return result.assign(0);
        }
        if (maskBuffer == null || maskBuffer.dataType() != result.dataType()
                || maskBuffer.ordering() != result.ordering()
                || !java.util.Arrays.equals(maskBuffer.shape(), result.shape())) {
            maskBuffer = Nd4j.createUninitializedDetached(result.dataType(), result.ordering(), result.shape());
        }
        if (keep == null) {
            keep = HostOps.step(p);
            scale = HostOps.times(1.0 / (1.0 - p));
        }
        INDArray m = maskBuffer;
        Nd4j.getExecutioner().exec(new UniformDistribution(m, 0.0, 1.0));
        keep.apply(m, m); // 1 where u > p, else 0
        scale.apply(m, m);
        mask = m;
        HostOps.multiply(input, m, result); // one op: the same product as assign + muli
        return result;
    }

    @Override
    public INDArray backprop(INDArray gradAtOutput, INDArray gradAtInput, int iteration, int epoch) {
        if (p == 1) {
            return gradAtInput.assign(0);
        }
        if (p == 0) {
            return gradAtInput == gradAtOutput ? gradAtInput : gradAtInput.assign(gradAtOutput);
        }
        if (mask == null) {
            throw new IllegalStateException("InvertedDropout.backprop without a forward pass (mask already cleared)");
        }
        // d(x * m)/dx = m: the same mask scales the gradient.
        INDArray g = gradAtInput == gradAtOutput ? gradAtInput : gradAtInput.assign(gradAtOutput);
        HostOps.multiply(g, mask, g);
        mask = null;
        return g;
    }

    @Override
    public void clear() {
        mask = null;
    }

    @Override
    public InvertedDropout clone() {
        return new InvertedDropout(p);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof InvertedDropout && ((InvertedDropout) o).p == p;
    }

    @Override
    public int hashCode() {
        return Double.hashCode(p);
    }

    @Override
    public String toString() {
        return "InvertedDropout(p=" + p + ")";
    }
}
