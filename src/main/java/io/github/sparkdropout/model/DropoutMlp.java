package io.github.sparkdropout.model;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.distribution.NormalDistribution;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.dropout.IDropout;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.SplittableRandom;

/**
 * The dropout MLP: dense ReLU hidden layers, a softmax output with cross-entropy, plain SGD, float32; by default
 * the D2L 4.6 network 784-256(ReLU)-256(ReLU)-10(softmax) ({@link MlpShape#book}). The drop probability after hidden
 * layer i acts, in DL4J, on the <em>input</em> of layer i + 1 (a layer's dropout drops its input), so the input
 * and the logits are never dropped.
 */
public final class DropoutMlp {
    private DropoutMlp() {
    }

    /** The configuration, as JSON-serialisable DL4J config (what executors rebuild replicas from). */
    public static MultiLayerConfiguration configuration(Variant variant, double lr, MlpShape shape, long seed) {
        NeuralNetConfiguration.Builder base = new NeuralNetConfiguration.Builder()
                .seed(Nd4jSeeds.usable(seed))
                .dataType(DataType.FLOAT)
                .updater(new Sgd(lr))
                .biasInit(0.0);
        if (variant == Variant.SCRATCH) {
            base.weightInit(WeightInit.UNIFORM); // U(-1/sqrt(fan_in), 1/sqrt(fan_in)) = PyTorch's nn.Linear default
        } else {
            base.weightInit(new NormalDistribution(0, 0.01));
        }
        int[] sizes = shape.layers();
        NeuralNetConfiguration.ListBuilder list = base.list();
        int last = sizes.length - 2; // index of the output layer among the weight layers
        for (int i = 0; i < last; i++) {
            DenseLayer.Builder dense = new DenseLayer.Builder().nIn(sizes[i]).nOut(sizes[i + 1])
                    .activation(Activation.RELU);
            if (i > 0) {
                dense.dropOut(dropout(variant, shape.dropout(i - 1)));
            }
            list.layer(dense.build());
        }
        return list.layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(sizes[last])
                        .nOut(sizes[last + 1]).activation(Activation.SOFTMAX)
                        .dropOut(dropout(variant, shape.dropout(last - 1))).build())
                .build();
    }

    /** The dropout of one place, from the book's drop probability {@code p}. */
    static IDropout dropout(Variant variant, double p) {
        if (variant == Variant.SCRATCH) {
            return new InvertedDropout(p);
        }
        // DL4J's Dropout takes the probability of KEEPING an activation.
        return p == 0 ? null : new Dropout(1.0 - p);
    }

    /**
     * {@code net} (a copy, same parameters) with a configuration any DL4J can load without this project's classes:
     * the scratch variant's {@link InvertedDropout} with drop probability p becomes DL4J's built-in
     * {@code Dropout(1 - p)}, the same inverted dropout (it draws its masks differently, which matters only for
     * training; at inference dropout is off in both). Only p = 1 (drop everything), which DL4J's Dropout cannot
     * express, stays ours.
     */
    public static MultiLayerNetwork portable(MultiLayerNetwork net) {
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations().clone();
        for (NeuralNetConfiguration layer : conf.getConfs()) {
            if (layer.getLayer().getIDropout() instanceof InvertedDropout d && d.dropProbability() < 1) {
                layer.getLayer().setIDropout(d.dropProbability() == 0 ? null : new Dropout(1 - d.dropProbability()));
            }
        }
        MultiLayerNetwork copy = new MultiLayerNetwork(conf);
        copy.init(net.params().dup(), false);
        return copy;
    }

    /** A freshly initialised network. Scratch also draws biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)) as PyTorch does. */
    public static MultiLayerNetwork create(Variant variant, double lr, MlpShape shape, long seed) {
        MultiLayerNetwork net = new MultiLayerNetwork(configuration(variant, lr, shape, seed));
        net.init();
        if (variant == Variant.SCRATCH) {
            SplittableRandom rng = new SplittableRandom(seed ^ 0x5DEECE66DL);
            for (int i = 0; i < net.getnLayers(); i++) {
                INDArray b = net.getLayer(i).getParam("b");
                long fanIn = net.getLayer(i).getParam("W").size(0);
                double bound = 1.0 / Math.sqrt(fanIn);
                float[] v = new float[(int) b.length()];
                for (int j = 0; j < v.length; j++) {
                    v[j] = (float) ((rng.nextDouble() * 2 - 1) * bound);
                }
                b.assign(org.nd4j.linalg.factory.Nd4j.create(v, b.shape()));
            }
        }
        return net;
    }
}
