package io.github.sparkdropout.train;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/** One SGD step on a replica, reporting the minibatch's mean loss and correct predictions (dropout on). */
public interface MinibatchStep {
    /** Result of one step: the minibatch's mean loss and how many of its examples were predicted right. */
    record Outcome(double meanLoss, long correct) {
    }

    Outcome step(MultiLayerNetwork net, INDArray features, INDArray labels);

    static MinibatchStep of(StepKind kind) {
        return kind == StepKind.LEAN ? new LeanSgdStep() : new Dl4jFitStep();
    }
}
