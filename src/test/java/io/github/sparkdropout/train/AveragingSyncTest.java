package io.github.sparkdropout.train;

import io.github.sparkdropout.model.MlpShape;
import io.github.sparkdropout.KernelSensitive;
import io.github.sparkdropout.TestSpark;
import io.github.sparkdropout.model.DropoutMlp;
import io.github.sparkdropout.model.StepKind;
import io.github.sparkdropout.model.Variant;
import io.github.sparkdropout.spark.SparkInternals;
import io.github.sparkdropout.train.stats.RoundListener;
import io.github.sparkdropout.train.stats.TrainStats;
import io.github.sparkdropout.train.transport.BarrierTransport;
import io.github.sparkdropout.train.worker.FaultInjection;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.dataset.DataSet;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One barrier stage per epoch (workers averaged by the driver's RPC endpoint) and one Spark job per round
 * (workers' results collected and averaged on the driver) are two transports for the same arithmetic: with dropout
 * on, uneven shards and a worker that runs out of data before the others, both must produce bit-identical models
 * and identical training statistics.
 */
@KernelSensitive
class AveragingSyncTest {
    private static final int BATCH = 16;
    private static final int FREQUENCY = 2;
    private static final long SEED = 23;

    static List<DataSet> shards(int... sizes) {
        return io.github.sparkdropout.TestData.randomShards(9, sizes);
    }

    private record Trained(float[] params, long examples, long steps, double loss) {
    }

    private static JavaSparkContext sc() {
        return JavaSparkContext.fromSparkContext(TestSpark.get().sparkContext());
    }

    private static MultiLayerNetwork freshNet() {
        return DropoutMlp.create(Variant.SCRATCH, 0.5, MlpShape.book(0.2, 0.5), SEED);
    }

    private static TrainingSettings settings(AveragingSync sync) {
        return new TrainingSettings(TrainingMasterKind.RESIDENT, 2, BATCH, FREQUENCY, sync, SEED, StepKind.LEAN, 1);
    }

    private static Trained train(JavaRDD<DataSet> rdd, AveragingSync sync, int epochs, RoundListener listener) {
        MultiLayerNetwork net = freshNet();
        Broadcast<String> conf = sc().broadcast(net.getLayerWiseConfigurations().toJson());
        long examples = 0;
        long steps = 0;
        double loss = 0;
        try (DistributedTraining training = new DistributedTraining(sc(), net, conf, settings(sync), listener)) {
            for (int e = 1; e <= epochs; e++) {
                TrainStats stats = training.fitEpoch(e, rdd);
                examples += stats.examples();
                steps += stats.steps();
                loss += stats.meanLoss();
            }
        }
        return new Trained(net.params().toFloatVector(), examples, steps, loss);
    }

    @Test
    @Timeout(120)
    void barrierAndJobsTrainBitIdenticalModelsOnUnevenShards() {
        // 5 and 3 minibatches of 16: 3 rounds of 2 steps; worker 1 has nothing left in round 3
        JavaRDD<DataSet> rdd = sc().parallelize(shards(75, 40), 2).cache();
        Trained jobs = train(rdd, AveragingSync.JOBS, 2, RoundListener.NONE);
        Trained barrier = train(rdd, AveragingSync.BARRIER, 2, RoundListener.NONE);
        assertFalse(java.util.Arrays.equals(freshNet().params().toFloatVector(), jobs.params()),
                "training moved the parameters");
        assertArrayEquals(jobs.params(), barrier.params(), "barrier and jobs averaging give the same model");
        assertEquals(2L * (75 + 40), barrier.examples(), "every example trained once per epoch");
        assertEquals(jobs.steps(), barrier.steps());
        assertEquals(jobs.loss(), barrier.loss(), 1e-12);
        rdd.unpersist();
    }

    @Test
    @Timeout(120)
    void onlyTheFirstEpochShipsTheStartingParametersToTheReplicas() {
        JavaRDD<DataSet> rdd = sc().parallelize(shards(75, 40), 2).cache();
        Trained one = train(rdd, AveragingSync.JOBS, 3, RoundListener.NONE);
        long before = BarrierTransport.startRequestsAnswered();
        Trained barrier = train(rdd, AveragingSync.BARRIER, 3, RoundListener.NONE);
        assertEquals(2, BarrierTransport.startRequestsAnswered() - before,
                "epoch 1 builds both replicas from the driver's parameters; epochs 2-3 start from what they hold");
        assertArrayEquals(one.params(), barrier.params(), "and train the same model as the jobs transport");
        rdd.unpersist();
    }

    @Test
    @Timeout(120)
    void aWorkerWithAnEmptyPartitionStillJoinsEveryRound() {
        JavaRDD<DataSet> rdd = sc().parallelize(shards(50), 2).cache(); // one of the two partitions is empty
        Trained jobs = train(rdd, AveragingSync.JOBS, 1, RoundListener.NONE);
        Trained barrier = train(rdd, AveragingSync.BARRIER, 1, RoundListener.NONE);
        assertArrayEquals(jobs.params(), barrier.params());
        assertEquals(50, barrier.examples());
        rdd.unpersist();
    }

    @Test
    @Timeout(120)
    void bothModesReportEveryRoundToTheProgressListener() {
        JavaRDD<DataSet> rdd = sc().parallelize(shards(75, 40), 2).cache();
        for (AveragingSync sync : new AveragingSync[]{AveragingSync.JOBS, AveragingSync.BARRIER}) {
            List<long[]> calls = Collections.synchronizedList(new ArrayList<>());
            train(rdd, sync, 1, (round, rounds, done, total) -> calls.add(new long[]{round, rounds, done, total}));
            assertEquals(3, calls.size(), sync + ": one call per round (5 and 3 minibatches, 2 steps a round)");
            for (int i = 0; i < calls.size(); i++) {
                assertArrayEquals(new long[]{i + 1, 3, Math.min(75, 32L * (i + 1)) + Math.min(40, 32L * (i + 1)), 115},
                        calls.get(i), sync + " round " + (i + 1));
            }
        }
        rdd.unpersist();
    }

    /** One epoch with a barrier master tried {@code attempts} times, worker 0 failing in round 2 of attempt 1. */
    private static TrainStats epochWithAFailingWorker(MultiLayerNetwork net, JavaRDD<DataSet> rdd, int attempts) {
        Broadcast<String> conf = sc().broadcast(net.getLayerWiseConfigurations().toJson());
        ResidentAveragingTrainingMaster master = new ResidentAveragingTrainingMaster(settings(AveragingSync.BARRIER),
                conf, RoundListener.NONE, attempts);
        TrainStats stats = TrainStats.forEpoch(sc().sc(), 1);
        master.prepareEpoch(0, stats);
        sc().setLocalProperty(FaultInjection.PROPERTY, "1:0:1");
        try {
            new SparkDl4jMultiLayer(sc(), net, master).fit(rdd);
        } finally {
            sc().setLocalProperty(FaultInjection.PROPERTY, null);
            master.release();
        }
        return stats;
    }

    @Test
    @Timeout(120)
    void aFailedBarrierEpochIsTrainedAgainToTheSameModel() {
        JavaRDD<DataSet> rdd = sc().parallelize(shards(75, 40), 2).cache();
        Trained jobs = train(rdd, AveragingSync.JOBS, 1, RoundListener.NONE);

        MultiLayerNetwork net = freshNet();
        long before = BarrierTransport.startRequestsAnswered();
        TrainStats stats = epochWithAFailingWorker(net, rdd, 2);
        assertArrayEquals(jobs.params(), net.params().toFloatVector(), "the retry starts from the epoch's start");
        assertEquals(4, BarrierTransport.startRequestsAnswered() - before,
                "both attempts' fresh replicas asked for the epoch's start");
        assertEquals(115, stats.examples(), "the failed attempt's partial statistics are not counted");

        // local[2] tries a task once, and so does the master then: the failure reaches the caller
        assertEquals(1, SparkInternals.taskAttempts(sc().sc()));
        Exception e = assertThrows(Exception.class, () -> epochWithAFailingWorker(freshNet(), rdd, 1));
        assertTrue(String.valueOf(e.getMessage()).contains("failure injected by a test"), e.getMessage());
        rdd.unpersist();
    }

    @Test
    void unresolvedSettingsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> settings(AveragingSync.AUTO));
        assertThrows(IllegalArgumentException.class, () -> new TrainingSettings(TrainingMasterKind.RESIDENT, 0, BATCH,
                FREQUENCY, AveragingSync.JOBS, SEED, StepKind.LEAN, 1));
    }
}
