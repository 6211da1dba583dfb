package io.github.sparkdropout.model;

import io.github.sparkdropout.KernelSensitive;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.dropout.IDropout;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@KernelSensitive
class DropoutMlpTest {
    private static IDropout dropoutOf(MultiLayerConfiguration conf, int layer) {
        return conf.getConf(layer).getLayer().getIDropout();
    }

    @Test
    void dropoutSitsAfterHiddenLayers1And2OnlyWithTheConfiguredP() {
        MultiLayerConfiguration scratch = DropoutMlp.configuration(Variant.SCRATCH, 0.5, MlpShape.book(0.2, 0.5), 1);
        assertNull(dropoutOf(scratch, 0), "no dropout on the input");
        assertEquals(new InvertedDropout(0.2), dropoutOf(scratch, 1), "layer 2's input = hidden layer 1's output");
        assertEquals(new InvertedDropout(0.5), dropoutOf(scratch, 2), "layer 3's input = hidden layer 2's output");
        MultiLayerConfiguration concise = DropoutMlp.configuration(Variant.CONCISE, 0.5, MlpShape.book(0.2, 0.5), 1);
        assertNull(dropoutOf(concise, 0));
        assertEquals(0.8, ((Dropout) dropoutOf(concise, 1)).getP(), 1e-12, "DL4J takes the RETAIN probability");
        assertEquals(0.5, ((Dropout) dropoutOf(concise, 2)).getP(), 1e-12);
        assertNull(dropoutOf(DropoutMlp.configuration(Variant.CONCISE, 0.5, MlpShape.book(0.0, 0.5), 1), 1));
    }

    /** DL4J takes seed 0 for "unseeded": the book's seed 0 must still give the same network every time. */
    @ParameterizedTest
    @EnumSource(Variant.class)
    void everySeedIncludingZeroGivesTheSameInitialNetwork(Variant v) {
        for (long seed : new long[]{0, 1, 42}) {
            assertEquals(DropoutMlp.create(v, 0.5, MlpShape.book(0.2, 0.5), seed).params(),
                    DropoutMlp.create(v, 0.5, MlpShape.book(0.2, 0.5), seed).params(), v + " seed " + seed);
        }
        assertNotEquals(DropoutMlp.create(v, 0.5, MlpShape.book(0.2, 0.5), 0).params(),
                DropoutMlp.create(v, 0.5, MlpShape.book(0.2, 0.5), 1).params());
    }

    @Test
    void shapeIsTheBooks() {
        MultiLayerNetwork net = DropoutMlp.create(Variant.SCRATCH, 0.5, MlpShape.book(0.2, 0.5), 1);
        assertEquals(784L * 256 + 256 + 256L * 256 + 256 + 256L * 10 + 10, net.numParams());
        assertEquals(DataType.FLOAT, net.params().dataType());
    }

    @Test
    void configurationSurvivesAJsonRoundTrip() {
        for (Variant v : Variant.values()) {
            MultiLayerConfiguration conf = DropoutMlp.configuration(v, 0.5, MlpShape.book(0.2, 0.5), 1);
            MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(conf.toJson());
            assertEquals(conf, back, v + " as executors rebuild it");
        }
    }

    @Test
    void scratchInitIsPyTorchsUniformAndConciseIsNormal001() {
        MultiLayerNetwork scratch = DropoutMlp.create(Variant.SCRATCH, 0.5, MlpShape.book(0.2, 0.5), 1);
        double bound1 = 1 / Math.sqrt(784);
        INDArray w1 = scratch.getLayer(0).getParam("W");
        INDArray b1 = scratch.getLayer(0).getParam("b");
        assertTrue(w1.amaxNumber().doubleValue() <= bound1 && w1.amaxNumber().doubleValue() > 0.95 * bound1);
        assertTrue(b1.amaxNumber().doubleValue() <= bound1 && b1.amaxNumber().doubleValue() > 0.9 * bound1,
                "biases drawn U(-1/sqrt(784), 1/sqrt(784)) too");
        // U(-a, a) has standard deviation a / sqrt(3)
        assertEquals(bound1 / Math.sqrt(3), w1.stdNumber().doubleValue(), 0.02 * bound1);
        MultiLayerNetwork concise = DropoutMlp.create(Variant.CONCISE, 0.5, MlpShape.book(0.2, 0.5), 1);
        assertEquals(0.01, concise.getLayer(0).getParam("W").stdNumber().doubleValue(), 0.0005);
        assertEquals(0.0, concise.getLayer(1).getParam("b").amaxNumber().doubleValue(), 0.0, "biases 0");
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void inferenceHasNoDropout(Variant v) {
        MultiLayerNetwork net = DropoutMlp.create(v, 0.5, MlpShape.book(0.2, 0.5), 1);
        MultiLayerNetwork noDropout = DropoutMlp.create(v, 0.5, MlpShape.book(0.0, 0.0), 1);
        noDropout.setParams(net.params().dup());
        INDArray x = Nd4j.rand(DataType.FLOAT, 32, 784);
        INDArray first = net.output(x, false);
        assertEquals(first, net.output(x, false), "same input twice, same output");
        assertEquals(first, noDropout.output(x, false), "equals a forward pass with dropout disabled");
        assertTrue(!first.equals(net.output(x, true)), "training mode does drop");
    }
}
