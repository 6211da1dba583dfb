package io.github.sparkdropout.model;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.Serializable;

/**
 * The loss and correct predictions of each training minibatch of DL4J's {@code fit}, from the very forward pass the
 * gradient came from (dropout on), handed to an optional sink (which travels with the listener to the workers).
 *
 * <p>DL4J hands listeners no output-layer activations during fit; but right after the backward pass the output
 * layer's input is the dropped-out H2 of this step and its parameters are not yet updated, so one small
 * 256x10 product reproduces the logits exactly.
 */
public final class LastStepListener extends BaseTrainingListener implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Receives each step's outcome and its minibatch size. */
    public interface Sink extends Serializable {
        void add(MinibatchStep.Outcome outcome, long examples);
    }

    private final Sink sink;
    private transient MinibatchStep.Outcome last;

    /** {@code sink} may be null (only {@link #last} is kept). */
    public LastStepListener(Sink sink) {
        this.sink = sink;
    }

    @Override
    public void onBackwardPass(Model model) {
        if (!(model instanceof MultiLayerNetwork net)) {
            return;
        }
        last = new MinibatchStep.Outcome(net.score(), correctFromOutputLayer(net));
        if (sink != null) {
            sink.add(last, net.getLabels().size(0));
        }
    }

    /** The outcome of the last step this listener saw. */
    MinibatchStep.Outcome last() {
        return last;
    }

    /** Correct predictions of the step just back-propagated, from the output layer's (dropped-out) input. */
    private static long correctFromOutputLayer(MultiLayerNetwork net) {
        Layer out = net.getOutputLayer();
        INDArray logits = out.input().mmul(out.getParam("W")).addiRowVector(out.getParam("b"));
        return logits.argMax(1).eq(net.getLabels().argMax(1)).castTo(DataType.INT).sumNumber().longValue();
    }
}
