package io.github.sparkdropout.model;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/** One SGD step on a network, reporting the minibatch's mean loss and correct predictions (dropout on). */
public interface MinibatchStep {
    /** Result of one step: the minibatch's mean loss and how many of its examples were predicted right. */
    record Outcome(double meanLoss, long correct) {
    }

    Outcome step(MultiLayerNetwork net, INDArray features, INDArray labels);

    /** The step of {@code kind} for {@code net} (the lean step checks that it implements {@code net}). */
    static MinibatchStep of(StepKind kind, MultiLayerNetwork net) {
        return kind == StepKind.LEAN ? LeanSgdStep.of(net) : new Dl4jFitStep();
    }
}
