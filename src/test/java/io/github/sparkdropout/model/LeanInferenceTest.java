package io.github.sparkdropout.model;

import io.github.sparkdropout.KernelSensitive;
import io.github.sparkdropout.data.DataException;
import org.apache.spark.ml.linalg.Vectors;
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

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The lean inference must give DL4J's own output bit for bit, on a fresh and on a trained network, and its scores
 * DL4J's logits and prediction.
 */
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
        MultiLayerNetwork net = DropoutMlp.create(variant, 0.5, MlpShape.book(0.2, 0.5), 21);
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

    @ParameterizedTest(name = "{0} {1}")
    @org.junit.jupiter.params.provider.CsvSource({"SCRATCH, 30-16-2, 0.3", "SCRATCH, 20-48-32-24-5, 0.2/0.5/0.4"})
    void givesDl4jsOutputBitForBitForAnyShape(Variant variant, String layers, String dropouts) {
        MlpShape shape = LeanSgdStepTest.shape(layers, dropouts);
        MultiLayerNetwork net = DropoutMlp.create(variant, 0.5, shape, 26);
        Nd4j.getRandom().setSeed(27);
        INDArray x = Nd4j.rand(DataType.FLOAT, 300, shape.inputs()).muli(4).subi(2); // any finite values
        INDArray y = Nd4j.zeros(DataType.FLOAT, 300, shape.classes());
        for (int i = 0; i < 300; i++) {
            y.putScalar(i, (i * 7) % shape.classes(), 1f);
        }
        MinibatchStep step = MinibatchStep.of(StepKind.LEAN, net);
        for (int i = 0; i < 20; i++) {
            step.step(net, x, y);
        }
        sameBits(net.output(x, false), LeanInference.output(net, x));
        LeanInference.Scores scores = LeanInference.score(net, x);
        sameBits(net.output(x, false), scores.probabilities());
        agreesWithDl4j(net, x, scores);
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void scoresAreDl4jsLogitsProbabilitiesAndPrediction(Variant variant) {
        MultiLayerNetwork net = DropoutMlp.create(variant, 0.5, MlpShape.book(0.2, 0.5), 24);
        Nd4j.getRandom().setSeed(25);
        INDArray x = Nd4j.rand(DataType.FLOAT, 300, 784);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 300, 10);
        for (int i = 0; i < 300; i++) {
            y.putScalar(i, (i * 3) % 10, 1f);
        }
        MinibatchStep step = MinibatchStep.of(StepKind.LEAN, net);
        for (int i = 0; i < 20; i++) { // trained weights: logits far apart, predictions that differ by row
            step.step(net, x, y);
        }
        LeanInference.Scores scores = LeanInference.score(net, x);
        sameBits(net.output(x, false), scores.probabilities());
        agreesWithDl4j(net, x, scores);
        // the batch as the Spark scorers hand it over: float32 pixels row after row, more room than rows
        float[] pixels = java.util.Arrays.copyOf(x.dup('c').data().asFloat(), 400 * 784);
        LeanInference.Scores fromPixels = LeanInference.score(net, pixels, 300);
        sameBits(scores.probabilities(), fromPixels.probabilities());
        for (int i = 0; i < 300; i++) {
            assertArrayEquals(scores.logits(i), fromPixels.logits(i));
        }
    }

    @Test
    void anotherNetworksScoresComeFromDl4j() {
        MultiLayerNetwork other = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(5).list()
                .layer(new DenseLayer.Builder().nIn(784).nOut(32).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(32).nOut(10)
                        .activation(Activation.SOFTMAX).build())
                .build());
        other.init();
        Nd4j.getRandom().setSeed(26);
        INDArray x = Nd4j.rand(DataType.FLOAT, 50, 784);
        LeanInference.Scores scores = LeanInference.score(other, x);
        sameBits(other.output(x, false), scores.probabilities());
        agreesWithDl4j(other, x, scores);
    }

    /**
     * The logits are DL4J's output layer's input times its weights plus its bias (to float rounding: a GEMM of
     * another shape), their softmax is the probabilities, and the prediction is DL4J's {@code predict}.
     */
    private static void agreesWithDl4j(MultiLayerNetwork net, INDArray x, LeanInference.Scores scores) {
        java.util.List<INDArray> activations = net.feedForward(x, false);
        org.deeplearning4j.nn.api.Layer last = net.getOutputLayer();
        float[][] z = activations.get(activations.size() - 2).mmul(last.getParam("W"))
                .addiRowVector(last.getParam("b")).toFloatMatrix();
        int[] predicted = net.predict(x);
        assertEquals(x.size(0), scores.rows());
        java.util.Set<Integer> classes = new java.util.HashSet<>();
        for (int i = 0; i < scores.rows(); i++) {
            double[] logits = scores.logits(i);
            double[] p = scores.probabilities(i);
            double max = java.util.Arrays.stream(logits).max().orElseThrow();
            double sum = java.util.Arrays.stream(logits).map(l -> Math.exp(l - max)).sum();
            for (int c = 0; c < logits.length; c++) {
                assertEquals(z[i][c], logits[c], 1e-5 * Math.max(1, Math.abs(z[i][c])), "logit " + c + " of " + i);
                assertEquals(Math.exp(logits[c] - max) / sum, p[c], 1e-6, "softmax " + c + " of " + i);
            }
            assertEquals(predicted[i], scores.prediction(i), "row " + i);
            classes.add(scores.prediction(i));
        }
        assertTrue(classes.size() > 1, "the rows are not all predicted one class: " + classes);
    }

    @Test
    void featuresAreAVectorOf784Values() {
        float[] x = new float[2 * 784];
        LeanInference.putFeatures(Vectors.sparse(784, new int[]{3}, new double[]{0.5}), () -> "row 0", x, 784, 784);
        assertEquals(0.5f, x[784 + 3]);
        assertEquals(0f, x[784]);
        assertEquals("row 7: 'features' must be a vector of 784 values, got 783", assertThrows(DataException.class,
                () -> LeanInference.putFeatures(Vectors.dense(new double[783]), () -> "row 7: 'features'", x, 0, 784))
                .getMessage());
        assertEquals("column 'pixels' must be a vector of 784 values, got null", assertThrows(DataException.class,
                () -> LeanInference.putFeatures(null, () -> "column 'pixels'", x, 0, 784)).getMessage());
        float[] three = new float[3];
        LeanInference.putFeatures(Vectors.dense(-7, 0, 1e6), () -> "row 0", three, 0, 3);
        assertEquals(1e6f, three[2], "any size, any finite values");
    }

    /** Every scorer's rule: finite values, or one line naming where; values outside the trained range are found. */
    @Test
    void featuresAreFiniteAndTheFirstOutsideTheTrainedRangeIsReported() {
        float[] x = new float[784];
        double[] v = new double[784];
        io.github.sparkdropout.data.FeatureRange unit = io.github.sparkdropout.data.FeatureRange.unit(784);
        LeanInference.putFeatures(Vectors.dense(v), () -> "row 0", x, 0, 784);
        assertEquals(-1, unit.firstOutside(x, 0));
        v[0] = 1.0;
        LeanInference.putFeatures(Vectors.dense(v), () -> "row 0", x, 0, 784);
        assertEquals(-1, unit.firstOutside(x, 0), "1 is in range");
        v[40] = 255;
        v[50] = -1;
        LeanInference.putFeatures(Vectors.dense(v), () -> "row 0", x, 0, 784);
        assertEquals(40, unit.firstOutside(x, 0));
        assertEquals(255f, x[40], "scored as it is");
        double[] min = new double[784];
        double[] max = new double[784];
        java.util.Arrays.fill(max, 1);
        max[40] = 300;
        min[50] = -2;
        assertEquals(-1, new io.github.sparkdropout.data.FeatureRange(min, max).firstOutside(x, 0),
                "each feature against its own range");
        v[60] = Double.NaN;
        assertEquals("column 'f' holds NaN at position 60: the features must be finite numbers",
                assertThrows(DataException.class, () -> LeanInference.putFeatures(Vectors.dense(v),
                        () -> "column 'f'", x, 0, 784)).getMessage());
        assertEquals("row 2: 'features' holds Infinity at position 3: the features must be finite numbers",
                assertThrows(DataException.class, () -> LeanInference.putFeatures(Vectors.sparse(784,
                        new int[]{3}, new double[]{1e300}), () -> "row 2: 'features'", x, 0, 784)).getMessage(),
                "beyond float32: infinite, as the network would see it");
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
