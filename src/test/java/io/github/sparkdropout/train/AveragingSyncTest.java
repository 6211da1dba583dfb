package io.github.sparkdropout.train;

import io.github.sparkdropout.TestSpark;
import io.github.sparkdropout.model.DropoutMlp;
import io.github.sparkdropout.model.Variant;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * One barrier stage per epoch (workers averaged by the driver's RPC endpoint) and one Spark job per round
 * (workers' results collected and averaged on the driver) are two transports for the same arithmetic: with dropout on, uneven shards and a worker that runs out of data
 * before the others, both must produce bit-identical models and identical training statistics.
 */
class AveragingSyncTest {
    private static final int BATCH = 16;
    private static final int FREQUENCY = 2;
    private static final long SEED = 23;

    private static List<DataSet> shards(int... sizes) {
        Nd4j.getRandom().setSeed(9);
        List<DataSet> out = new ArrayList<>();
        for (int p = 0; p < sizes.length; p++) {
            INDArray x = Nd4j.rand(DataType.FLOAT, sizes[p], 784);
            INDArray y = Nd4j.zeros(DataType.FLOAT, sizes[p], 10);
            for (int i = 0; i < sizes[p]; i++) {
                y.putScalar(i, (i * 7 + p) % 10, 1f);
            }
            out.add(new DataSet(x, y));
        }
        return out;
    }

    private record Trained(float[] params, long examples, long steps, double loss) {
    }

    private static JavaSparkContext sc() {
        return JavaSparkContext.fromSparkContext(TestSpark.get().sparkContext());
    }

    private static MultiLayerNetwork freshNet() {
        return DropoutMlp.create(Variant.SCRATCH, 0.5, 0.2, 0.5, SEED);
    }

    private static ResidentAveragingTrainingMaster master(AveragingSync sync) {
        return new ResidentAveragingTrainingMaster(BATCH, FREQUENCY, SEED, StepKind.LEAN, 1, sync);
    }

    /** One epoch of {@code net} on {@code rdd} with {@code master} (released afterwards), optionally with a worker
     * failing on purpose in the first barrier attempt. */
    private static TrainStats fitOneEpoch(ResidentAveragingTrainingMaster master, MultiLayerNetwork net,
                                          JavaRDD<DataSet> rdd, int injectedFailures) {
        TrainStats stats = TrainStats.forEpoch(sc().sc(), 1);
        master.setEpochStats(stats);
        ResidentAveragingTrainingMaster.injectedFailures.set(injectedFailures);
        try {
            new SparkDl4jMultiLayer(sc(), net, master).fit(rdd);
        } finally {
            ResidentAveragingTrainingMaster.injectedFailures.set(0);
            master.release();
        }
        return stats;
    }

    private static Trained train(JavaRDD<DataSet> rdd, AveragingSync sync, int epochs) {
        JavaSparkContext sc = sc();
        ResidentAveragingTrainingMaster master = master(sync);
        SparkDl4jMultiLayer sparkNet = new SparkDl4jMultiLayer(sc, freshNet(), master);
        long examples = 0;
        long steps = 0;
        double loss = 0;
        for (int e = 0; e < epochs; e++) {
            TrainStats stats = TrainStats.forEpoch(sc.sc(), e + 1);
            master.setEpochStats(stats);
            sparkNet.fit(rdd);
            examples += stats.examples();
            steps += stats.steps();
            loss += stats.meanLoss();
        }
        master.release();
        return new Trained(sparkNet.getNetwork().params().toFloatVector(), examples, steps, loss);
    }

    @Test
    @Timeout(120)
    void barrierAndJobsTrainBitIdenticalModelsOnUnevenShards() {
        JavaSparkContext sc = sc();
        // 5 and 3 minibatches of 16: 3 rounds of 2 steps; worker 1 has nothing left in round 3
        JavaRDD<DataSet> rdd = sc.parallelize(shards(75, 40), 2).cache();
        Trained jobs = train(rdd, AveragingSync.JOBS, 2);
        Trained barrier = train(rdd, AveragingSync.BARRIER, 2);
        float[] start = freshNet().params().toFloatVector();
        assertFalse(java.util.Arrays.equals(start, jobs.params()), "training moved the parameters");
        assertArrayEquals(jobs.params(), barrier.params(), "barrier and jobs averaging give the same model");
        assertEquals(2L * (75 + 40), barrier.examples(), "every example trained once per epoch");
        assertEquals(jobs.steps(), barrier.steps());
        assertEquals(jobs.loss(), barrier.loss(), 1e-12);
        rdd.unpersist();
    }

    @Test
    @Timeout(120)
    void aWorkerWithAnEmptyPartitionStillJoinsEveryRound() {
        JavaSparkContext sc = sc();
        JavaRDD<DataSet> rdd = sc.parallelize(shards(50), 2).cache(); // one of the two partitions is empty
        Trained jobs = train(rdd, AveragingSync.JOBS, 1);
        Trained barrier = train(rdd, AveragingSync.BARRIER, 1);
        assertArrayEquals(jobs.params(), barrier.params());
        assertEquals(50, barrier.examples());
        rdd.unpersist();
    }

    @Test
    @Timeout(120)
    void bothModesReportEveryRoundToTheProgressListener() {
        JavaSparkContext sc = sc();
        JavaRDD<DataSet> rdd = sc.parallelize(shards(75, 40), 2).cache();
        for (AveragingSync sync : new AveragingSync[]{AveragingSync.JOBS, AveragingSync.BARRIER}) {
            List<long[]> calls = java.util.Collections.synchronizedList(new ArrayList<>());
            ResidentAveragingTrainingMaster master = master(sync);
            master.setRoundListener((round, rounds, done, total) -> calls.add(new long[]{round, rounds, done, total}));
            fitOneEpoch(master, freshNet(), rdd, 0);
            assertEquals(3, calls.size(), sync + ": one call per round (5 and 3 minibatches, 2 steps a round)");
            for (int i = 0; i < calls.size(); i++) {
                assertArrayEquals(new long[]{i + 1, 3, Math.min(75, 32L * (i + 1)) + Math.min(40, 32L * (i + 1)), 115},
                        calls.get(i), sync + " round " + (i + 1));
            }
        }
        rdd.unpersist();
    }

    @Test
    @Timeout(120)
    void aFailedBarrierEpochIsTrainedAgainToTheSameModel() {
        JavaSparkContext sc = sc();
        JavaRDD<DataSet> rdd = sc.parallelize(shards(75, 40), 2).cache();
        Trained jobs = train(rdd, AveragingSync.JOBS, 1);

        ResidentAveragingTrainingMaster master = master(AveragingSync.BARRIER);
        master.setBarrierEpochAttempts(2);
        MultiLayerNetwork net = freshNet();
        TrainStats stats = fitOneEpoch(master, net, rdd, 1); // worker 0 fails in round 2 of the first attempt
        assertArrayEquals(jobs.params(), net.params().toFloatVector(), "the retry starts from the epoch's start");
        assertEquals(115, stats.examples(), "the failed attempt's partial statistics are not counted");

        // local[2] tries a task once, and so does the master by default: the failure reaches the caller
        assertEquals(1, Trainer.taskAttempts(sc.sc()));
        assertThrows(Exception.class, () -> fitOneEpoch(master(AveragingSync.BARRIER), freshNet(), rdd, 1));
        rdd.unpersist();
    }

    @Test
    void unresolvedSyncIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> master(AveragingSync.AUTO));
    }
}
