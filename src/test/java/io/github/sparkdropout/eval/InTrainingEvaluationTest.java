package io.github.sparkdropout.eval;

import io.github.sparkdropout.model.MlpShape;
import io.github.sparkdropout.KernelSensitive;
import io.github.sparkdropout.TestSpark;
import io.github.sparkdropout.model.DropoutMlp;
import io.github.sparkdropout.model.StepKind;
import io.github.sparkdropout.model.Variant;
import io.github.sparkdropout.train.AveragingSync;
import io.github.sparkdropout.train.DistributedTraining;
import io.github.sparkdropout.train.TrainingMasterKind;
import io.github.sparkdropout.train.TrainingSettings;
import io.github.sparkdropout.train.stats.RoundListener;
import io.github.sparkdropout.train.transport.EpochEnd;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.dataset.DataSet;


import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The training stage's own tasks evaluate the test shards at the end of a barrier epoch: the result must be exactly
 * what the separate evaluation job gives for the same parameters, epoch after epoch; and where the stage cannot
 * (jobs averaging, or test shards partitioned differently) nothing is claimed and the caller runs the job.
 */
@KernelSensitive
class InTrainingEvaluationTest {
    private static JavaSparkContext sc() {
        return JavaSparkContext.fromSparkContext(TestSpark.get().sparkContext());
    }

    private static JavaRDD<DataSet> shards(long seed, int... sizes) {
        return sc().parallelize(io.github.sparkdropout.TestData.randomShards(seed, sizes), sizes.length).cache();
    }

    private static void assertSame(EvalResult want, EvalResult got, String what) {
        assertEquals(want.accuracy(), got.accuracy(), what);
        assertEquals(want.examples(), got.examples(), what);
        for (int c = 0; c < 10; c++) {
            assertArrayEquals(want.confusion()[c], got.confusion()[c], what + " confusion row " + c);
        }
        assertArrayEquals(want.f1(), got.f1(), what);
    }

    @Test
    @Timeout(120)
    void theTrainingStageEvaluatesExactlyAsTheEvaluationJob() {
        JavaRDD<DataSet> train = shards(4, 70, 45);
        JavaRDD<DataSet> test = shards(5, 33, 31);
        for (AveragingSync sync : new AveragingSync[]{AveragingSync.BARRIER, AveragingSync.JOBS}) {
            MultiLayerNetwork net = DropoutMlp.create(Variant.SCRATCH, 0.5, MlpShape.book(0.2, 0.5), 11);
            Broadcast<String> conf = sc().broadcast(net.getLayerWiseConfigurations().toJson());
            TestEvaluation job = new TestEvaluation(sc(), conf, "in-training-test-" + sync, 1);
            TrainingSettings settings = new TrainingSettings(TrainingMasterKind.RESIDENT, 2, 16, 2, sync, 3,
                    StepKind.LEAN, 1);
            try (DistributedTraining training = new DistributedTraining(sc(), net, conf, settings,
                    RoundListener.NONE)) {
                for (int epoch = 1; epoch <= 2; epoch++) {
                    training.fitEpoch(epoch, train, test, TestEvaluation.inTraining(10));
                    EpochEnd end = training.epochEnd();
                    EvalResult separate = job.evaluate(training.network(), test, 10);
                    if (sync == AveragingSync.JOBS) {
                        assertNull(end, "one job per round: no stage to evaluate in");
                        continue;
                    }
                    assertNotNull(end, "barrier epoch " + epoch + " evaluated in its stage");
                    assertEquals(2, end.results().size());
                    assertSame(separate, TestEvaluation.merge(end.results(), 10), "epoch " + epoch);
                }
                // test shards partitioned unlike the training shards: the stage cannot pair them
                training.fitEpoch(3, train, test.repartition(3), TestEvaluation.inTraining(10));
                assertNull(training.epochEnd());
                if (sync == AveragingSync.BARRIER) { // a partition without test examples: the others count
                    JavaRDD<DataSet> oneSided = sc().parallelize(test.take(1), 2);
                    training.fitEpoch(4, train, oneSided, TestEvaluation.inTraining(10));
                    assertNotNull(training.epochEnd());
                    assertSame(job.evaluate(training.network(), oneSided, 10),
                            TestEvaluation.merge(training.epochEnd().results(), 10), "one test partition empty");
                }
            } finally {
                job.release();
            }
            if (sync == AveragingSync.BARRIER) {
                // a training partition without a shard has no replica to score its test shard: the caller must
                MultiLayerNetwork other = DropoutMlp.create(Variant.SCRATCH, 0.5, MlpShape.book(0.2, 0.5), 11);
                try (DistributedTraining training = new DistributedTraining(sc(), other, conf, settings,
                        RoundListener.NONE)) {
                    training.fitEpoch(1, sc().parallelize(train.take(1), 2), test, TestEvaluation.inTraining(10));
                    assertNull(training.epochEnd(), "a test partition without a replica: no in-stage result");
                }
            }
        }
    }
}
