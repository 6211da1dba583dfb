package io.github.sparkdropout.model;

import io.github.sparkdropout.data.DataException;
import io.github.sparkdropout.data.FrameShards;
import org.apache.spark.ml.linalg.Vector;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.concurrency.AffinityManager;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;
import java.util.function.Supplier;

/**
 * The one scorer: a trained network's {@link Scores} (logits, class probabilities and predicted class) for a batch of
 * examples, in inference mode (no dropout), and the check every row's features pass first ({@link #putFeatures}).
 * The Spark ML model's {@code transform}, {@code predict} and the test evaluation all score through it.
 *
 * <p>For the networks {@link LeanSgdStep} implements it gives DL4J's {@code output(x, false)} bit for bit under every
 * OpenBLAS kernel set (tested under each one the CPU runs): each layer makes DL4J's own GEMM call, {@code X W} into
 * a column-major matrix as DL4J's dense layer allocates it (a row-major result is computed as {@code W^T X^T}, a
 * different call whose sums some kernel sets, Haswell's among them, round differently), its bias by a rank-1 GEMM
 * (the one float addition of DL4J's {@code addiRowVector}), then the layer's own activation function, as DL4J calls
 * it. What it leaves out is DL4J's inference machinery (workspaces, a Java op per call, its bias broadcast). Any
 * other network, and input that is not a float matrix, goes through DL4J's own forward pass.
 */
public final class LeanInference {
    private LeanInference() {
    }

    /** {@code net}'s class probabilities for the rows of {@code x}, as {@code net.output(x, false)} gives them. */
    public static INDArray output(MultiLayerNetwork net, INDArray x) {
        return forward(net, x, false).probabilities(); // the evaluation's: no logits, no per-row values
    }

    /**
     * {@code net}'s scores for the first {@code rows} examples in {@code x}: {@link #inputs(MultiLayerNetwork)}
     * float32 values each, in order.
     */
    public static Scores score(MultiLayerNetwork net, float[] x, int rows) {
        int size = inputs(net);
        // straight into the native buffer, as the shards are built (no trimmed copy of the batch first)
        INDArray features = Nd4j.createUninitialized(DataType.FLOAT, rows, size);
        features.data().asNioFloat().put(0, x, 0, rows * size);
        Nd4j.getAffinityManager().tagLocation(features, AffinityManager.Location.HOST);
        return score(net, features);
    }

    /** {@code net}'s scores for the rows of {@code x}. */
    public static Scores score(MultiLayerNetwork net, INDArray x) {
        return forward(net, x, true);
    }

    private static Scores forward(MultiLayerNetwork net, INDArray x, boolean withLogits) {
        if (x.rank() != 2 || x.dataType() != DataType.FLOAT || x.size(0) == 0
                || !LeanSgdStep.differences(net).isEmpty()) {
            return dl4j(net, x, withLogits);
        }
        long n = x.size(0);
        int last = net.getnLayers() - 1;
        INDArray ones = Nd4j.ones(DataType.FLOAT, 1, n);
        INDArray in = x;
        float[] logits = null;
        for (int i = 0; i <= last; i++) {
            Layer layer = net.getLayer(i);
            INDArray w = layer.getParam("W");
            INDArray b = layer.getParam("b");
            INDArray z = Nd4j.createUninitialized(DataType.FLOAT, new long[]{n, w.size(1)}, 'f'); // as DL4J's
            HostBlas.gemm(in, w, z, false, false, 1.0, 0.0);
            HostBlas.gemm(ones, LeanSgdStep.row(b), z, true, false, 1.0, 1.0);
            if (i == last && withLogits) {
                logits = rowMajor(z); // read before the activation: DL4J's softmax overwrites z in place
            }
            INDArray activated = ((BaseLayer) layer.conf().getLayer()).getActivationFn().getActivation(z, false);
            if (in != x && in != activated && in.closeable()) {
                in.close(); // the previous layer's activations: 5 MB a layer for 5,000 examples, freed now
            }
            in = activated;
        }
        ones.close();
        return new Scores(in, logits);
    }

    /**
     * DL4J's forward pass (its last activations are {@code output(x, false)}'s), for what the lean one does not
     * take. DL4J keeps no output layer's pre-activation, so the logits are that layer's {@code z} computed again
     * from its input, as DL4J's dense output layer computes it.
     */
    private static Scores dl4j(MultiLayerNetwork net, INDArray x, boolean withLogits) {
        List<INDArray> activations = net.feedForward(x, false);
        INDArray probabilities = activations.get(activations.size() - 1);
        Layer output = net.getOutputLayer();
        INDArray w = output.getParam("W");
        INDArray b = output.getParam("b");
        float[] logits = !withLogits || w == null || b == null ? null
                : rowMajor(activations.get(activations.size() - 2).mmul(w).addiRowVector(b));
        return new Scores(probabilities, logits);
    }

    /** How many features {@code net} takes: its first layer's inputs. */
    public static int inputs(MultiLayerNetwork net) {
        return (int) net.getLayer(0).getParam("W").size(0);
    }

    /** How many classes {@code net} scores: its output layer's outputs. */
    public static int classes(MultiLayerNetwork net) {
        return (int) net.getOutputLayer().getParam("W").size(1);
    }

    /**
     * One row's features, checked, as float32 into {@code x} from {@code offset}: what every scorer of Spark rows
     * takes (a vector, dense or sparse, of {@code size} finite values). Anything else is a {@link DataException}
     * that starts with {@code where} (the value's name for the user, e.g. "column 'features'"; made only for the
     * error). Whether a value outside the range the network was trained on is refused or flagged is the caller's
     * ({@link io.github.sparkdropout.data.FeatureRange}).
     */
    public static void putFeatures(Object value, Supplier<String> where, float[] x, int offset, int size) {
        if (!(value instanceof Vector vector) || vector.size() != size) {
            throw new DataException(where.get() + " must be a vector of " + size + " values, got "
                    + (value instanceof Vector other ? other.size() : value == null ? "null"
                    : "a " + value.getClass().getSimpleName()));
        }
        FrameShards.dense(vector, x, offset);
        // as float32, the values the network sees (and fit checks): a double beyond float's range is infinite
        for (int j = 0; j < size; j++) {
            float f = x[offset + j];
            if (!Float.isFinite(f)) { // NaN would give NaN probabilities, and argmax class 0
                throw new DataException(where.get() + " holds " + f + " at position " + j + ": the features must be"
                        + " finite numbers");
            }
        }
    }

    /** {@code m} as float32 values, row after row (whatever its layout). */
    private static float[] rowMajor(INDArray m) {
        return m.dup('c').data().asFloat();
    }

    /**
     * The index of the largest of {@code values[offset .. offset + length)} relative to {@code offset}: the first
     * of equals, as ND4J's argmax and Evaluation take it. The one argmax over class scores of the project.
     */
    public static int argmax(float[] values, int offset, int length) {
        int best = 0;
        for (int c = 1; c < length; c++) {
            if (values[offset + c] > values[offset + best]) {
                best = c;
            }
        }
        return best;
    }

    /**
     * A batch's scores, row by row: the output layer's logits, the class probabilities and the predicted class (the
     * per-row values are read out of the native array once, when first asked for).
     */
    public static final class Scores {
        private final INDArray probabilities;
        private final int rows;
        private final int classes;
        private final float[] logitValues; // row after row; null where the network's output layer has no weights
        private float[] probabilityValues;
        private int[] predictions;

        private Scores(INDArray probabilities, float[] logits) {
            this.probabilities = probabilities;
            this.rows = (int) probabilities.size(0);
            this.classes = (int) probabilities.size(1);
            this.logitValues = logits;
        }

        private float[] probabilityValues() {
            if (probabilityValues == null) {
                probabilityValues = rowMajor(probabilities);
                predictions = new int[rows];
                // over the probabilities, as ND4J's Evaluation counts predictions: predict's accuracy is evaluate's
                // even where two classes' probabilities round to the same float (the first of them wins in both)
                for (int i = 0; i < rows; i++) {
                    predictions[i] = argmax(probabilityValues, i * classes, classes);
                }
            }
            return probabilityValues;
        }

        public int rows() {
            return rows;
        }

        /** All rows' class probabilities [rows, classes], as {@code net.output(x, false)} gives them. */
        public INDArray probabilities() {
            return probabilities;
        }

        /** Row {@code i}'s class probabilities. */
        public double[] probabilities(int i) {
            return doubles(probabilityValues(), i);
        }

        /** Row {@code i}'s logits: the output layer's values before its activation (softmax). */
        public double[] logits(int i) {
            if (logitValues == null) {
                throw new UnsupportedOperationException("no logits: the network's output layer has no weights and"
                        + " bias to take them from, or they were not asked for");
            }
            return doubles(logitValues, i);
        }

        /** Row {@code i}'s predicted class: the most probable one. */
        public int prediction(int i) {
            probabilityValues();
            return predictions[i];
        }

        private double[] doubles(float[] values, int i) {
            double[] d = new double[classes];
            for (int c = 0; c < classes; c++) {
                d[c] = values[i * classes + c];
            }
            return d;
        }
    }
}
