package io.github.sparkdropout.train;

import io.github.sparkdropout.model.MlpShape;
import io.github.sparkdropout.KernelSensitive;
import io.github.sparkdropout.TestSpark;
import io.github.sparkdropout.data.Shuffle;
import io.github.sparkdropout.model.DropoutMlp;
import io.github.sparkdropout.model.MinibatchStep;
import io.github.sparkdropout.model.StepKind;
import io.github.sparkdropout.model.Variant;
import io.github.sparkdropout.train.stats.RoundListener;
import io.github.sparkdropout.train.stats.TrainStats;
import io.github.sparkdropout.train.worker.Seeds;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With plain SGD, dropout off and averaging after every minibatch, N workers with per-worker batch b take exactly
 * the step of one network on the union of their minibatches (batch N*b): the mean of the workers'
 * {@code w - lr * g_i} is {@code w - lr * mean(g_i)}, and the mean of N equal-sized minibatch means is the mean
 * over all N*b examples.
 */
@KernelSensitive
class AveragingExactnessTest {
    private static final int BATCH = 32;
    private static final int STEPS = 4;
    private static final long SEED = 17;

    @ParameterizedTest(name = "N = {0}, {1}")
    @CsvSource({"1, JOBS", "2, JOBS", "1, BARRIER", "2, BARRIER"})
    void averagedWorkersEqualOneNetworkOnTheCombinedBatch(int workers, AveragingSync sync) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(TestSpark.get().sparkContext());
        Nd4j.getRandom().setSeed(5);
        List<DataSet> shards = new ArrayList<>();
        for (int p = 0; p < workers; p++) {
            int n = BATCH * STEPS;
            INDArray x = Nd4j.rand(DataType.FLOAT, n, 784);
            INDArray y = Nd4j.zeros(DataType.FLOAT, n, 10);
            for (int i = 0; i < n; i++) {
                y.putScalar(i, (i * 3 + p) % 10, 1f);
            }
            shards.add(new DataSet(x, y));
        }
        JavaRDD<DataSet> rdd = sc.parallelize(shards, workers).cache();

        MultiLayerNetwork start = DropoutMlp.create(Variant.SCRATCH, 0.5, MlpShape.book(0.0, 0.0), SEED);
        MultiLayerNetwork net = start.clone();
        TrainStats stats;
        try (DistributedTraining training = new DistributedTraining(sc, net,
                sc.broadcast(net.getLayerWiseConfigurations().toJson()), new TrainingSettings(
                TrainingMasterKind.RESIDENT, workers, BATCH, 1, sync, SEED, StepKind.LEAN, 1), RoundListener.NONE)) {
            stats = training.fitEpoch(1, rdd);
        }
        INDArray distributed = net.params();

        // The same examples, in the same order, as one network with batch N*b, stepped by DL4J's own fit.
        MultiLayerNetwork single = start.clone();
        MinibatchStep fit = MinibatchStep.of(StepKind.DL4J, single);
        int[][] perms = new int[workers][];
        for (int p = 0; p < workers; p++) {
            perms[p] = Shuffle.permutation(BATCH * STEPS, Seeds.shuffle(SEED, p, 0));
        }
        for (int s = 0; s < STEPS; s++) {
            INDArray[] xs = new INDArray[workers];
            INDArray[] ys = new INDArray[workers];
            for (int p = 0; p < workers; p++) {
                int[] idx = java.util.Arrays.copyOfRange(perms[p], s * BATCH, (s + 1) * BATCH);
                xs[p] = shards.get(p).getFeatures().getRows(idx);
                ys[p] = shards.get(p).getLabels().getRows(idx);
            }
            fit.step(single, Nd4j.vstack(xs), Nd4j.vstack(ys));
        }
        double diff = Nd4j.math().abs(distributed.sub(single.params())).maxNumber().doubleValue();
        assertTrue(diff <= 1e-5, "max |distributed - single| = " + diff);
        assertTrue(start.params().sub(single.params()).norm2Number().doubleValue() > 1e-3, "training moved");
        assertEquals((long) workers * BATCH * STEPS, stats.examples(), "every example trained once, per accumulators");
        assertEquals((long) workers * STEPS, stats.steps());
        rdd.unpersist();
    }
}
