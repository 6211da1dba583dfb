package io.github.sparkdropout.train.worker;

import io.github.sparkdropout.concurrent.DaemonThreads;
import io.github.sparkdropout.model.DropoutMlp;
import io.github.sparkdropout.model.HostBlas;
import io.github.sparkdropout.model.LeanInference;
import io.github.sparkdropout.model.MinibatchStep;
import io.github.sparkdropout.model.MlpShape;
import io.github.sparkdropout.model.ParamVectors;
import io.github.sparkdropout.model.StepKind;
import io.github.sparkdropout.model.Variant;
import io.github.sparkdropout.replica.Replica;
import io.github.sparkdropout.spark.SparkInternals;
import io.github.sparkdropout.train.aggregate.Contribution;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.api.plugin.SparkPlugin;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/**
 * Prepares a new executor JVM for replicas as it starts: a Spark plugin ({@code spark.plugins},
 * set by the job's commands on a cluster) whose executor side, as the executor starts, builds a small throwaway
 * replica of each variant on a daemon thread, runs steps and an inference on made-up rows, and sends a round's
 * message through the endpoint's serialisation. That loads and compiles what the first epoch would otherwise load
 * and compile inside the training (DL4J's configuration classes and JSON reader, the network's layers, the step, the
 * scorer, the messages' code: 0.4-0.7 s of "getting ready" per executor, measured) beside the executor's first tasks,
 * which cache the data. On one 2-core machine that moves the work rather than saving it; where executors have cores
 * of their own and fetch the data's broadcast blocks over a network, it uses time they would spend waiting.
 *
 * <p>First, before anything in the executor loads OpenBLAS, it asks for the best kernel set the executor's CPU
 * allows where nobody set OPENBLAS_CORETYPE ({@link HostBlas.KernelChoice}): OpenBLAS 0.3.19's own detection runs
 * SSE3 kernels on CPUs it does not know.
 *
 * <p>It touches nothing the training uses: its replicas are not in the replica cache, its random numbers are this
 * thread's own ({@code Nd4j.getRandom()} is per thread), it leaves the native thread count alone, and whatever fails
 * is logged and forgotten.
 */
public final class ExecutorWarmUp implements SparkPlugin {
    private static final Logger LOG = LoggerFactory.getLogger(ExecutorWarmUp.class);
    // small, so that it costs the executor little memory and time: what it loads and compiles does not depend on size
    private static final int[] LAYERS = {784, 32, 32, 10};
    private static final int ROWS = 256;
    private static final int BATCH = 32;
    // measured: 8 or 300 steps left the same first-epoch compute; the classes and first calls are what counts
    private static final int STEPS = 20;
    private static final int MESSAGES = 20;

    @Override
    public DriverPlugin driverPlugin() {
        return null; // nothing to do in the driver
    }

    @Override
    public ExecutorPlugin executorPlugin() {
        return new ExecutorPlugin() {
            @Override
            public void init(PluginContext ctx, Map<String, String> extraConf) {
                // before anything in this executor loads OpenBLAS (tasks start after the plugins' init)
                String kernels = HostBlas.KernelChoice.askForTheBest();
                if (kernels != null) {
                    LOG.info("asked OpenBLAS for {} kernels (this CPU's flags; OPENBLAS_CORETYPE unset)", kernels);
                }
                DaemonThreads.named("sparkdropout-executor-warm-up").newThread(ExecutorWarmUp::run).start();
            }
        };
    }

    private static void run() {
        long start = System.nanoTime();
        try {
            warmUp();
            LOG.info("executor warmed up for replicas in {} ms", (System.nanoTime() - start) / 1_000_000);
        } catch (Throwable e) { // never the executor's problem: the first epoch then does this work itself
            LOG.info("executor warm-up skipped ({})", e.toString());
        }
    }

    /** The parameters of {@link #LAYERS}' dense layers: each layer's weights and biases. */
    private static int params() {
        int n = 0;
        for (int i = 1; i < LAYERS.length; i++) {
            n += LAYERS[i - 1] * LAYERS[i] + LAYERS[i];
        }
        return n;
    }

    /** The warm-up's work, in the calling thread: each variant's replica built, stepped and scored; messages sent. */
    static void warmUp() {
        INDArray features = Nd4j.rand(DataType.FLOAT, ROWS, LAYERS[0]).muli(255).castTo(DataType.UBYTE);
        INDArray labels = Nd4j.zeros(DataType.FLOAT, ROWS, LAYERS[LAYERS.length - 1]);
        for (int i = 0; i < ROWS; i++) {
            labels.putScalar(i, i % LAYERS[LAYERS.length - 1], 1f);
        }
        MlpShape shape = new MlpShape(LAYERS, MlpShape.defaultDropouts(LAYERS.length - 2));
        for (Variant variant : Variant.values()) {
            String json = DropoutMlp.configuration(variant, 0.5, shape, 1).toJson();
            Replica replica = new Replica(json, new float[params()]); // zeros: no random initialisation to run
            MinibatchStep step = replica.step(StepKind.LEAN);
            int[] perm = replica.permutation(ROWS, 1);
            for (int k = 0; k < STEPS; k++) {
                int[] idx = EpochOrder.minibatch(perm, k % EpochOrder.minibatches(ROWS, BATCH), BATCH);
                INDArray[] xy = replica.gather(features, labels, idx);
                step.step(replica.net(), xy[0], xy[1]);
            }
            for (int m = 0; m < MESSAGES; m++) { // a round's message out and its mean back, as a worker has them
                Contribution back = (Contribution) SparkInternals.overTheWire(
                        new Contribution(replica.net().params(), STEPS, (long) STEPS * BATCH));
                ParamVectors.set(replica.net(), back.params());
            }
            LeanInference.score(replica.net(), replica.gather(features, labels, EpochOrder.minibatch(perm, 0, BATCH))[0]);
        }
    }
}
