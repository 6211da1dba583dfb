package io.github.sparkdropout.model;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * DL4J's own training step ({@code MultiLayerNetwork.fit}); the step's loss and accuracy are read by a
 * {@link LastStepListener} from the same forward pass.
 */
final class Dl4jFitStep implements MinibatchStep {
    private final LastStepListener last = new LastStepListener(null);

    @Override
    public Outcome step(MultiLayerNetwork net, INDArray features, INDArray labels) {
        if (!net.getListeners().contains(last)) {
            net.addListeners(last);
        }
        net.fit(new DataSet(features, labels));
        return last.last();
    }
}
