package io.github.sparkdropout.model;

import io.github.sparkdropout.KernelSensitive;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The lean inference must give DL4J's own output bit for bit, on a fresh and on a trained network. */
@KernelSensitive
class LeanInferenceTest {
    private static void sameBits(INDArray want, INDArray got) {
        assertEquals(java.util.Arrays.toString(want.shape()), java.util.Arrays.toString(got.shape()));
        float[] w = want.dup('c').data().asFloat();
        float[] g = got.dup('c').data().asFloat();
        for (int i = 0; i < w.length; i++) {
            assertEquals(Float.floatToRawIntBits(w[i]), Float.floatToRawIntBits(g[i]), "value " + i);
        }
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void givesDl4jsOutputBitForBit(Variant variant) {
        MultiLayerNetwork net = DropoutMlp.create(variant, 0.5, 0.2, 0.5, 21);
        Nd4j.getRandom().setSeed(22);
        INDArray x = Nd4j.rand(DataType.FLOAT, 300, 784);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 300, 10);
        for (int i = 0; i < 300; i++) {
            y.putScalar(i, (i * 7) % 10, 1f);
        }
        sameBits(net.output(x, false), LeanInference.output(net, x));
        MinibatchStep step = MinibatchStep.of(StepKind.LEAN, net);
        for (int i = 0; i < 20; i++) { // trained weights: larger, more varied logits
            step.step(net, x, y);
        }
        sameBits(net.output(x, false), LeanInference.output(net, x));
        INDArray one = x.getRow(7, true).dup();
        sameBits(net.output(one, false), LeanInference.output(net, one));
    }

    @Test
    void aLayerNormalisedNetworkIsNotTheLeanOne() {
        MultiLayerNetwork normed = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(4).list()
                .layer(new DenseLayer.Builder().nIn(784).nOut(16).activation(Activation.RELU).hasLayerNorm(true)
                        .build())
                .layer(new DenseLayer.Builder().nIn(16).nOut(16).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(16).nOut(10)
                        .activation(Activation.SOFTMAX).build())
                .build());
        normed.init();
        // what sends it to DL4J's output (whose layer_norm op fails on this net in 1.0.0-M2 itself)
        assertEquals(java.util.List.of("layer 1 has layer normalisation"), LeanSgdStep.differences(normed));
    }

    @Test
    void anotherNetworkGoesThroughDl4j() {
        MultiLayerNetwork other = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(3).list()
                .layer(new DenseLayer.Builder().nIn(784).nOut(32).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(32).nOut(10)
                        .activation(Activation.SOFTMAX).build())
                .build());
        other.init();
        Nd4j.getRandom().setSeed(23);
        INDArray x = Nd4j.rand(DataType.FLOAT, 50, 784);
        sameBits(other.output(x, false), LeanInference.output(other, x));
    }
}
