package io.github.sparkdropout.train;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * DL4J's own training step ({@code MultiLayerNetwork.fit}); the loss and accuracy come from the
 * {@link TrainStatsListener} semantics (same forward pass), computed here from the listener's last values.
 */
final class Dl4jFitStep implements MinibatchStep {
    private final LastStepListener last = new LastStepListener();

    @Override
    public Outcome step(MultiLayerNetwork net, INDArray features, INDArray labels) {
        if (!net.getListeners().contains(last)) {
            net.addListeners(last);
        }
        net.fit(new DataSet(features, labels));
        return new Outcome(last.loss, last.correct);
    }

    /** Captures the step's loss and correct count right after the backward pass. */
    static final class LastStepListener extends org.deeplearning4j.optimize.api.BaseTrainingListener {
        double loss;
        long correct;

        @Override
        public void onBackwardPass(org.deeplearning4j.nn.api.Model model) {
            MultiLayerNetwork net = (MultiLayerNetwork) model;
            loss = net.score();
            correct = TrainStatsListener.correctFromOutputLayer(net);
        }
    }
}
