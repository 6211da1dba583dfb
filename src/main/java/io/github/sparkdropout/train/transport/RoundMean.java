package io.github.sparkdropout.train.transport;

import io.github.sparkdropout.model.ParamVectors;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.ObjectStreamException;
import java.io.Serializable;

/**
 * The driver's reply to every worker of a round: the mean of their parameters (null: no worker trained). In the
 * driver's JVM the workers read the driver's own native buffer; serialised, it travels as a {@code float[]}.
 */
final class RoundMean implements Serializable {
    private static final long serialVersionUID = 2L;
    private final transient INDArray params;

    RoundMean(INDArray params) {
        this.params = params;
    }

    INDArray params() {
        return params;
    }

    private Object writeReplace() throws ObjectStreamException {
        return new Wire(params == null ? null : ParamVectors.toFloats(params));
    }

    /** The serialised form: the mean as a heap array. */
    private record Wire(float[] params) implements Serializable {
        private Object readResolve() throws ObjectStreamException {
            return new RoundMean(params == null ? null : ParamVectors.fromFloats(params));
        }
    }
}
