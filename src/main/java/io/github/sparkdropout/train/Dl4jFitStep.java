package io.github.sparkdropout.train;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * DL4J's own training step ({@code MultiLayerNetwork.fit}); the step's loss and accuracy are read by a
 * {@link TrainStatsListener} from the same forward pass, as the stock master's workers do.
 */
final class Dl4jFitStep implements MinibatchStep {
    private final TrainStatsListener last = new TrainStatsListener(null);

    @Override
    public Outcome step(MultiLayerNetwork net, INDArray features, INDArray labels) {
        if (!net.getListeners().contains(last)) {
            net.addListeners(last);
        }
        net.fit(new DataSet(features, labels));
        return new Outcome(last.lastLoss(), last.lastCorrect());
    }
}
