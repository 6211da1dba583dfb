package io.github.sparkdropout.model;

import io.github.sparkdropout.KernelSensitive;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The lean ND4J step and DL4J's fit are the same SGD step: same parameters, loss and accuracy after each step. And
 * the lean step refuses any network that is not the one it implements.
 */
@KernelSensitive
class LeanSgdStepTest {
    /** {@code 784-256-256-10} and {@code 0.2/0.5} as a shape. */
    static MlpShape shape(String layers, String dropouts) {
        return new MlpShape(java.util.Arrays.stream(layers.split("-")).mapToInt(Integer::parseInt).toArray(),
                java.util.Arrays.stream(dropouts.split("/")).mapToDouble(Double::parseDouble).toArray());
    }

    @ParameterizedTest(name = "{0} {1} dropout {2}")
    @CsvSource({"SCRATCH, 784-256-256-10, 0.0/0.0", "CONCISE, 784-256-256-10, 0.0/0.0",
            "SCRATCH, 784-256-256-10, 0.2/0.5", "CONCISE, 784-256-256-10, 0.2/0.5",
            "SCRATCH, 30-16-2, 0.3", "CONCISE, 30-16-2, 0.3",
            "SCRATCH, 20-48-32-24-5, 0.2/0.5/0.4", "CONCISE, 20-48-32-24-5, 0.2/0.5/0.4"})
    void leanStepEqualsDl4jFit(Variant variant, String layers, String dropouts) {
        MlpShape shape = shape(layers, dropouts);
        MultiLayerNetwork a = DropoutMlp.create(variant, 0.5, shape, 3);
        MultiLayerNetwork b = DropoutMlp.create(variant, 0.5, shape, 3);
        assertEquals(a.params(), b.params());
        MinibatchStep lean = MinibatchStep.of(StepKind.LEAN, a);
        MinibatchStep dl4j = MinibatchStep.of(StepKind.DL4J, b);
        Nd4j.getRandom().setSeed(99);
        INDArray x = Nd4j.rand(DataType.FLOAT, 64, shape.inputs());
        INDArray y = Nd4j.zeros(DataType.FLOAT, 64, shape.classes());
        for (int i = 0; i < 64; i++) {
            y.putScalar(i, (i * 7) % shape.classes(), 1f);
        }
        for (int step = 0; step < 5; step++) {
            // the same RNG state before each step, so both draw the same dropout masks in the same order
            Nd4j.getRandom().setSeed(1000 + step);
            MinibatchStep.Outcome oa = lean.step(a, x, y);
            Nd4j.getRandom().setSeed(1000 + step);
            MinibatchStep.Outcome ob = dl4j.step(b, x, y);
            double diff = Nd4j.math().abs(a.params().sub(b.params())).maxNumber().doubleValue();
            assertTrue(diff <= 1e-5, "step " + step + ": max |lean - dl4j| = " + diff);
            assertEquals(ob.meanLoss(), oa.meanLoss(), 1e-4, "loss of step " + step);
            assertEquals(ob.correct(), oa.correct(), "correct predictions of step " + step);
        }
        assertTrue(a.params().sub(DropoutMlp.create(variant, 0.5, shape, 3).params()).norm2Number()
                .doubleValue() > 1e-3, "the steps did move the parameters");
    }

    /** The book's net with one change made by {@code change} to the list builder's layers. */
    private static MultiLayerNetwork changed(UnaryOperator<NeuralNetConfiguration.ListBuilder> change) {
        NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT)
                .updater(new Sgd(0.5)).list();
        MultiLayerConfiguration conf = change.apply(b).build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    private static DenseLayer dense(int in, Activation a) {
        return new DenseLayer.Builder().nIn(in).nOut(256).activation(a).build();
    }

    private static OutputLayer output(LossFunctions.LossFunction loss, Activation a) {
        return new OutputLayer.Builder(loss).nIn(256).nOut(10).activation(a).build();
    }

    private static String refusal(MultiLayerNetwork net) {
        String msg = assertThrows(IllegalArgumentException.class, () -> LeanSgdStep.of(net)).getMessage();
        assertTrue(msg.startsWith("the lean SGD step does not implement this network: "), msg);
        return msg;
    }

    @Test
    void acceptsBothOfTheBooksVariants() {
        for (Variant v : Variant.values()) {
            LeanSgdStep.of(DropoutMlp.create(v, 0.5, MlpShape.book(0.2, 0.5), 1));
        }
    }

    @Test
    void refusesANetworkItDoesNotImplementNamingWhatDiffers() {
        assertTrue(refusal(changed(b -> b.layer(dense(784, Activation.TANH)).layer(dense(256, Activation.RELU))
                .layer(output(LossFunctions.LossFunction.MCXENT, Activation.SOFTMAX))))
                .contains("layer 1 activation is tanh, not ReLU"));
        assertTrue(refusal(changed(b -> b.layer(dense(784, Activation.RELU)).layer(dense(256, Activation.RELU))
                .layer(output(LossFunctions.LossFunction.MSE, Activation.IDENTITY))))
                .contains("layer 3 activation is identity, not softmax; layer 3 loss is"));
        assertTrue(refusal(changed(b -> b.layer(dense(784, Activation.RELU)).layer(dense(256, Activation.RELU))
                .layer(output(LossFunctions.LossFunction.MCXENT, Activation.SOFTMAX)).layer(1,
                        new DenseLayer.Builder().nIn(256).nOut(256).activation(Activation.RELU)
                                .updater(new Adam(1e-3)).build())))
                .contains("layer 2 updater is Adam"));
        assertTrue(refusal(changed(b -> b.layer(new DenseLayer.Builder().nIn(784).nOut(256)
                        .activation(Activation.RELU).dropOut(0.8).build()).layer(dense(256, Activation.RELU))
                .layer(output(LossFunctions.LossFunction.MCXENT, Activation.SOFTMAX))))
                .contains("layer 1 drops its input"));
        assertTrue(refusal(changed(b -> b.layer(new DenseLayer.Builder().nIn(784).nOut(256)
                        .activation(Activation.RELU).l2(1e-4).build()).layer(dense(256, Activation.RELU))
                .layer(output(LossFunctions.LossFunction.MCXENT, Activation.SOFTMAX))))
                .contains("layer 1 has regularisation"));
        assertTrue(refusal(changed(b -> b.layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(784)
                        .nOut(10).activation(Activation.SOFTMAX).build())))
                .contains("it has 1 layer, not a hidden layer or more and an output layer"));
    }
}
