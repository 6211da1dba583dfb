package io.github.sparkdropout.train;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Records each training minibatch's loss and correct predictions on the worker that trained it, from the very
 * forward pass the gradient came from (dropout on), into {@link TrainStats}.
 *
 * <p>DL4J hands listeners no output-layer activations during fit; but right after the backward pass the output
 * layer's input is the dropped-out H2 of this step and its parameters are not yet updated, so one small
 * 256x10 product reproduces the logits exactly.
 */
public final class TrainStatsListener extends BaseTrainingListener implements java.io.Serializable {
    private static final long serialVersionUID = 1L;

    private TrainStats stats;
    private transient double lastLoss = Double.NaN;
    private transient long lastCorrect;

    public TrainStatsListener(TrainStats stats) {
        this.stats = stats;
    }

    /** Points this listener at another epoch's (or a freshly deserialised task's) accumulators. */
    public void bind(TrainStats stats) {
        this.stats = stats;
    }

    @Override
    public void onBackwardPass(Model model) {
        if (!(model instanceof MultiLayerNetwork)) {
            return;
        }
        MultiLayerNetwork net = (MultiLayerNetwork) model;
        lastLoss = net.score();
        lastCorrect = correctFromOutputLayer(net);
        if (stats != null) {
            stats.add(lastLoss, lastCorrect, net.getLabels().size(0));
        }
    }

    /** Mean loss of the last step this listener saw. */
    double lastLoss() {
        return lastLoss;
    }

    /** Correct predictions of the last step this listener saw. */
    long lastCorrect() {
        return lastCorrect;
    }

    /** Correct predictions of the step just back-propagated, from the output layer's (dropped-out) input. */
    private static long correctFromOutputLayer(MultiLayerNetwork net) {
        Layer out = net.getOutputLayer();
        INDArray logits = out.input().mmul(out.getParam("W")).addiRowVector(out.getParam("b"));
        return logits.argMax(1).eq(net.getLabels().argMax(1)).castTo(org.nd4j.linalg.api.buffer.DataType.INT)
                .sumNumber().longValue();
    }
}
