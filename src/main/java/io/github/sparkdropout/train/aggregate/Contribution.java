package io.github.sparkdropout.train.aggregate;

import io.github.sparkdropout.model.ParamVectors;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.ObjectStreamException;
import java.io.Serializable;

/**
 * What one worker brings to an averaging round: its parameters after the round's steps (null when it had no data
 * left this round), how many steps it took and on how many examples.
 *
 * <p>The parameters are a native vector, usually the replica's own, not a copy: in the driver's JVM (local mode) the
 * driver averages them in place while the worker waits for the mean, and a worker must not change them until it has
 * the mean. Serialised (to another JVM, or as a task's result) they travel as a {@code float[]}, copied then.
 */
public final class Contribution implements Serializable {
    private static final long serialVersionUID = 2L;
    private final transient INDArray params;
    private final int steps;
    private final long examples;

    public Contribution(INDArray params, int steps, long examples) {
        this.params = params;
        this.steps = steps;
        this.examples = examples;
    }

    /** A contribution of a copy of {@code params}. */
    public static Contribution of(float[] params, int steps, long examples) {
        return new Contribution(params == null ? null : ParamVectors.fromFloats(params), steps, examples);
    }

    /** A worker that ran out of data: it joins the round but adds nothing to the mean. */
    public static Contribution none() {
        return new Contribution(null, 0, 0);
    }

    public INDArray params() {
        return params;
    }

    public int steps() {
        return steps;
    }

    public long examples() {
        return examples;
    }

    public boolean trained() {
        return steps > 0;
    }

    private Object writeReplace() throws ObjectStreamException {
        return new Wire(params == null ? null : ParamVectors.toFloats(params), steps, examples);
    }

    /** The serialised form: the parameters as a heap array. */
    private record Wire(float[] params, int steps, long examples) implements Serializable {
        private Object readResolve() throws ObjectStreamException {
            return Contribution.of(params, steps, examples);
        }
    }
}
