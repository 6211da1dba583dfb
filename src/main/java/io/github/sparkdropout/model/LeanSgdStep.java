package io.github.sparkdropout.model;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.dropout.IDropout;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.random.impl.DropOutInverted;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One SGD step of the {@link DropoutMlp} written directly as ND4J ops on the DL4J network's own parameter views,
 * with the buffers of each batch size allocated once. Same maths as DL4J's fit (tested equal): dense layers
 * {@code Z = X W + b}, ReLU, the layers' configured {@link IDropout} on the inputs of every layer but the first,
 * softmax + cross-entropy averaged over the minibatch, plain SGD {@code p -= lr * grad}. Any depth from one hidden
 * layer up and any widths ({@link MlpShape}).
 *
 * <p>It implements that family of networks and nothing else, so it checks the network when it is built
 * ({@link #of}) and refuses any other with a message naming what differs: a changed {@link DropoutMlp} must never
 * be trained silently by maths written for another.
 *
 * <p>What it saves over DL4J's fit is per-step machinery, not arithmetic: no workspaces, solver or listeners;
 * each weight update is fused into the GEMM that computes its gradient ({@code W = W - lr * A^T dZ}, beta = 1),
 * and so is each bias update ({@code b = b - lr * 1^T dZ}), so a step allocates nothing; the 10-wide softmax, loss
 * and accuracy are computed in Java on a copy of the logits (a few KB) instead of seven small native ops.
 */
public final class LeanSgdStep implements MinibatchStep {
    private static final double LOG_CLIP = 1e-10; // DL4J's LossMCXENT clips softmax outputs before the log

    private static final HostOps.Scalar RELU = HostOps.relu();
    private static final HostOps.Scalar POSITIVE = HostOps.step(0.0);

    private final double lr;
    private final Map<Long, Buffers> buffers = new HashMap<>();

    /**
     * Per-batch-size scratch arrays, reused every step: for each weight layer i its pre-activation z[i] (ReLU'd in
     * place for hidden layers); for each hidden layer i its dropped activations, ReLU derivative, back-propagated
     * error and DL4J Dropout mask (with the buffer of ones DL4J fills its mask with before the draw).
     */
    private static final class Buffers {
        final INDArray[] z, dropped, relu, error, mask, maskOnes;
        final INDArray dzOut, ones;
        final float[] logits, labels;
        final double[] exps;

        Buffers(long b, long[] widths) { // widths: the weight layers' output sizes, the last one the classes
            int hidden = widths.length - 1;
            z = new INDArray[widths.length];
            dropped = new INDArray[hidden];
            relu = new INDArray[hidden];
            error = new INDArray[hidden];
            mask = new INDArray[hidden];
            maskOnes = new INDArray[hidden];
            for (int i = 0; i < widths.length; i++) {
                z[i] = Nd4j.createUninitialized(DataType.FLOAT, b, widths[i]);
            }
            for (int i = 0; i < hidden; i++) {
                dropped[i] = Nd4j.createUninitialized(DataType.FLOAT, b, widths[i]);
                relu[i] = Nd4j.createUninitialized(DataType.FLOAT, b, widths[i]);
                error[i] = Nd4j.createUninitialized(DataType.FLOAT, b, widths[i]);
                mask[i] = Nd4j.createUninitialized(DataType.FLOAT, b, widths[i]); // DL4J Dropout's, see dropout()
                maskOnes[i] = Nd4j.ones(DataType.FLOAT, b, widths[i]);
            }
            long out = widths[hidden];
            dzOut = Nd4j.createUninitialized(DataType.FLOAT, b, out);
            ones = Nd4j.ones(DataType.FLOAT, 1, b); // bias gradients as GEMMs: colsum(dZ) = 1^T dZ
            logits = new float[(int) (b * out)];
            labels = new float[(int) (b * out)];
            exps = new double[(int) out];
        }
    }

    private LeanSgdStep(double lr) {
        this.lr = lr;
    }

    /**
     * The lean step for {@code net}, or an {@link IllegalArgumentException} naming every way {@code net} differs
     * from the networks this step implements: one or more dense ReLU layers, then a softmax output with
     * multi-class cross-entropy; biases; float32; one plain SGD learning rate; no regularisation, weight noise
     * or constraints; no dropout on the network's input.
     */
    public static LeanSgdStep of(MultiLayerNetwork net) {
        List<String> differences = differences(net);
        if (!differences.isEmpty()) {
            throw new IllegalArgumentException("the lean SGD step does not implement this network: "
                    + String.join("; ", differences));
        }
        // one rate for all layers (checked)
        return new LeanSgdStep(((Sgd) ((BaseLayer) net.getLayerWiseConfigurations().getConf(0).getLayer())
                .getIUpdater()).getLearningRate());
    }

    /** Every way {@code net} differs from the network this step implements (see {@link #of}); empty if none. */
    static List<String> differences(MultiLayerNetwork net) {
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        List<String> differences = new ArrayList<>();
        int count = conf.getConfs().size();
        if (count < 2) {
            differences.add("it has " + count + " layer" + (count == 1 ? "" : "s") + ", not a hidden layer or more"
                    + " and an output layer");
            return differences;
        }
        if (net.params().dataType() != DataType.FLOAT) {
            differences.add("parameters are " + net.params().dataType() + ", not FLOAT");
        }
        Double rate = null;
        for (int i = 0; i < count; i++) {
            NeuralNetConfiguration c = conf.getConf(i);
            String where = "layer " + (i + 1);
            org.deeplearning4j.nn.conf.layers.Layer layer = c.getLayer();
            boolean output = i == count - 1;
            if (output ? !(layer instanceof OutputLayer) : !(layer.getClass() == DenseLayer.class)) {
                differences.add(where + " is a " + layer.getClass().getSimpleName() + ", not a "
                        + (output ? "OutputLayer" : "DenseLayer"));
                continue;
            }
            BaseLayer base = (BaseLayer) layer;
            Object activation = base.getActivationFn();
            // equals: a ReLU with a max, threshold or negative slope is another function
            if (output ? !(activation instanceof ActivationSoftmax) : !new ActivationReLU().equals(activation)) {
                differences.add(where + " activation is " + activation + ", not " + (output ? "softmax" : "ReLU"));
            }
            if (!c.isMiniBatch()) {
                differences.add(where + " does not average its gradient over the minibatch");
            }
            if (output) {
                Object loss = ((OutputLayer) layer).getLossFn();
                if (!(loss instanceof LossMCXENT mcxent)) {
                    differences.add(where + " loss is " + loss + ", not MCXENT");
                } else if (mcxent.getWeights() != null) {
                    differences.add(where + " loss has class weights");
                } else if (mcxent.getSoftmaxClipEps() != LOG_CLIP) {
                    differences.add(where + " loss clips at " + mcxent.getSoftmaxClipEps() + ", not " + LOG_CLIP);
                }
            }
            if (layer instanceof DenseLayer dense && dense.hasLayerNorm()) {
                differences.add(where + " has layer normalisation");
            }
            if (layer instanceof DenseLayer dense && !dense.hasBias() || output && !((OutputLayer) layer).hasBias()) {
                differences.add(where + " has no bias");
            }
            if (base.getBiasUpdater() != null && !base.getBiasUpdater().equals(base.getIUpdater())) {
                differences.add(where + " updates its bias with " + base.getBiasUpdater() + ", its weights with "
                        + base.getIUpdater());
            }
            if (!(base.getIUpdater() instanceof Sgd sgd)) {
                differences.add(where + " updater is " + base.getIUpdater() + ", not plain SGD");
            } else if (sgd.getLearningRateSchedule() != null) {
                differences.add(where + " has a learning-rate schedule");
            } else if (rate != null && rate != sgd.getLearningRate()) {
                differences.add(where + " learning rate " + sgd.getLearningRate() + " differs from " + rate);
            } else {
                rate = sgd.getLearningRate();
            }
            if (!(base.getRegularization() == null || base.getRegularization().isEmpty())
                    || !(base.getRegularizationBias() == null || base.getRegularizationBias().isEmpty())) {
                differences.add(where + " has regularisation");
            }
            if (base.getWeightNoise() != null) {
                differences.add(where + " has weight noise");
            }
            if (base.getConstraints() != null && !base.getConstraints().isEmpty()) {
                differences.add(where + " has constraints");
            }
            if (i == 0 && base.getIDropout() != null) {
                differences.add("layer 1 drops its input (this step drops only the inputs of the layers after it)");
            }
            if (base.getGradientNormalization() != null
                    && base.getGradientNormalization() != org.deeplearning4j.nn.conf.GradientNormalization.None) {
                differences.add(where + " normalises its gradients");
            }
        }
        if (conf.getInputPreProcessors() != null && !conf.getInputPreProcessors().isEmpty()) {
            differences.add("the network has input preprocessors");
        }
        return differences;
    }

    // Why biases are added by a rank-1 GEMM (Z += 1 b, K = 1: each element gets exactly the one float addition
    // addiRowVector makes, so the result is bit-identical): ND4J's broadcast op costs several times the GEMM with
    // two workers running at once; three a step.

    /** A bias as a row: DL4J 1.0.0-M2 keeps it [1, n], later versions [n]; both are views of the parameters. */
    static INDArray row(INDArray bias) {
        return bias.rank() == 2 ? bias : bias.reshape(bias.ordering(), 1, bias.length());
    }

    /**
     * DL4J's built-in {@link Dropout} (the concise variant) allocates its mask every step; with a constant
     * probability and no cuDNN helper its forward pass is replayed here op for op (same ops, same RNG draws: tested
     * equal to DL4J's fit) into a mask buffer reused every step. Any other dropout runs as itself.
     */
    private static boolean replayed(IDropout d) {
        return d instanceof Dropout dl4j && dl4j.getPSchedule() == null && !CUDNN_DROPOUT;
    }

    /** Whether DL4J would hand its Dropout to cuDNN (a CUDA build with DL4J's cuDNN classes): then it runs as itself. */
    private static final boolean CUDNN_DROPOUT = isCudnnDropoutPresent();

    private static boolean isCudnnDropoutPresent() {
        try {
            Class.forName(Dropout.CUDNN_DROPOUT_HELPER_CLASS_NAME, false, LeanSgdStep.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    private static INDArray dropout(IDropout d, INDArray in, INDArray out, INDArray mask, INDArray ones,
                                    int iteration, int epoch, LayerWorkspaceMgr ws) {
        if (d == null) {
            return in;
        }
        if (!replayed(d)) {
            return d.applyDropout(in, out, iteration, epoch, ws);
        }
        // DL4J's Dropout.applyDropout (mask.assign(1) then DropOutInverted in place), its mask in our buffer: the
        // op reads 1 from a buffer of ones instead, the same draws and values
        Nd4j.getExecutioner().exec(new DropOutInverted(ones, mask, ((Dropout) d).getP()));
        HostOps.multiply(in, mask, out);
        return out;
    }

    /** The gradient through the dropout of {@link #dropout}, in place. */
    private static void undrop(IDropout d, INDArray grad, INDArray mask, int iteration, int epoch) {
        if (d == null) {
            return;
        }
        if (!replayed(d)) {
            d.backprop(grad, grad, iteration, epoch);
            return;
        }
        HostOps.multiply(grad, mask, grad); // DL4J's Dropout.backprop: the mask is 0 or 1/p
    }

    @Override
    public Outcome step(MultiLayerNetwork net, INDArray x, INDArray y) {
        int layers = net.getnLayers();
        int last = layers - 1;
        INDArray[] w = new INDArray[layers];
        INDArray[] b = new INDArray[layers];
        IDropout[] drop = new IDropout[layers]; // drop[i]: the dropout on layer i's input (none on layer 0's)
        long[] widths = new long[layers];
        for (int i = 0; i < layers; i++) {
            Layer l = net.getLayer(i);
            w[i] = l.getParam("W");
            b[i] = row(l.getParam("b"));
            drop[i] = ((BaseLayer) l.conf().getLayer()).getIDropout();
            widths[i] = w[i].size(1);
        }
        long n = x.size(0);
        Buffers s = buffers.computeIfAbsent(n, k -> new Buffers(k, widths));
        LayerWorkspaceMgr ws = LayerWorkspaceMgr.noWorkspaces();
        int iteration = net.getIterationCount();
        int epoch = net.getEpochCount();

        // ---- forward, dropout on (training); in[i] is layer i's input
        INDArray[] in = new INDArray[layers];
        in[0] = x;
        for (int i = 0; i < layers; i++) {
            HostBlas.gemm(in[i], w[i], s.z[i], false, false, 1.0, 0.0);
            HostBlas.gemm(s.ones, b[i], s.z[i], true, false, 1.0, 1.0); // + bias, see addBias
            if (i < last) {
                RELU.apply(s.z[i], s.z[i]); // in place: z[i] now holds the hidden activations
                in[i + 1] = dropout(drop[i + 1], s.z[i], s.dropped[i], s.mask[i], s.maskOnes[i], iteration, epoch,
                        ws);
            }
        }
        INDArray zOut = s.z[last];

        // ---- softmax, cross-entropy, accuracy, and dL/dZ = (P - Y) / n, in Java on the small logits
        int classes = (int) zOut.size(1);
        zOut.data().asNioFloat().get(0, s.logits, 0, s.logits.length);
        y.data().asNioFloat().get((int) y.offset(), s.labels, 0, s.labels.length);
        double lossSum = 0;
        long correct = 0;
        for (int i = 0; i < n; i++) {
            int o = i * classes;
            int best = LeanInference.argmax(s.logits, o, classes);
            int label = LeanInference.argmax(s.labels, o, classes); // one-hot
            float max = s.logits[o + best];
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                s.exps[c] = Math.exp(s.logits[o + c] - max); // once a logit: exp and log are the loop's cost
                sum += s.exps[c];
            }
            for (int c = 0; c < classes; c++) {
                double p = s.exps[c] / sum;
                if (s.labels[o + c] != 0) { // a zero label's term is -0.0: subtracting it changes nothing
                    lossSum -= s.labels[o + c] * Math.log(Math.max(p, LOG_CLIP));
                }
                s.logits[o + c] = (float) ((p - s.labels[o + c]) / n);
            }
            correct += best == label ? 1 : 0;
        }
        s.dzOut.data().asNioFloat().put(0, s.logits, 0, s.logits.length);
        // written through the host buffer: on CUDA the device copy must be refreshed from it (as ParamVectors does)
        Nd4j.getAffinityManager().tagLocation(s.dzOut, org.nd4j.linalg.api.concurrency.AffinityManager.Location.HOST);

        // ---- backward, output layer first; each layer's error is propagated through its weights BEFORE they are
        // updated
        INDArray dz = s.dzOut;
        for (int i = last; i >= 0; i--) {
            if (i > 0) {
                HostBlas.gemm(dz, w[i], s.error[i - 1], false, true, 1.0, 0.0); // dL/d(in[i])
            }
            HostBlas.gemm(in[i], dz, w[i], true, false, -lr, 1.0);               // W -= lr * in^T dZ
            HostBlas.gemm(s.ones, dz, b[i], false, false, -lr, 1.0);
            if (i > 0) {
                INDArray e = s.error[i - 1];
                undrop(drop[i], e, s.mask[i - 1], iteration, epoch);
                POSITIVE.apply(s.z[i - 1], s.relu[i - 1]);                   // ReLU'(Z) = [H > 0]
                HostOps.multiply(e, s.relu[i - 1], e);                       // dL/dZ of layer i - 1
                dz = e;
            }
        }
        net.setIterationCount(iteration + 1);
        return new Outcome(lossSum / n, correct);
    }
}
