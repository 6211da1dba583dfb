package io.github.sparkdropout.train;

import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.data.FashionMnist;
import io.github.sparkdropout.data.Shuffle;
import io.github.sparkdropout.eval.EvalResult;
import io.github.sparkdropout.eval.TestEvaluation;
import io.github.sparkdropout.metrics.EpochRecord;
import io.github.sparkdropout.model.DropoutMlp;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.linalg.dataset.DataSet;

import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The epoch loop, shaped like the book's {@code train_ch3}: fit an epoch (DL4J Spark parameter averaging),
 * evaluate on the test shards, hand the epoch's record to the caller (who appends it to the metrics table at once).
 */
public final class Trainer {
    /** Receives each finished epoch. */
    public interface EpochSink {
        void epochDone(EpochRecord record, EvalResult eval);
    }

    private final SparkSession spark;
    private final TrainConfig config;

    /** {@code config} must be resolved (workers known). */
    public Trainer(SparkSession spark, TrainConfig config) {
        if (config.workers() < 1) {
            throw new IllegalArgumentException("config not resolved: workers unknown");
        }
        this.spark = spark;
        this.config = config;
    }

    /**
     * Trains a fresh network on {@code trainShards} (one shard per worker, see {@code data.Shards}) for the
     * configured epochs and returns it.
     */
    public MultiLayerNetwork fit(JavaRDD<DataSet> trainShards, JavaRDD<DataSet> testShards, EpochSink sink,
                                 ResidentAveragingTrainingMaster.RoundListener progress) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        MultiLayerNetwork net = DropoutMlp.create(config.variant(), config.lr(), config.dropout1(),
                config.dropout2(), config.seed());
        TestEvaluation evaluation = new TestEvaluation(spark, net, "eval-" + System.identityHashCode(net),
                config.threadsPerWorker());
        ResidentAveragingTrainingMaster resident = null;
        ParameterAveragingTrainingMaster stock = null;
        SparkDl4jMultiLayer sparkNet;
        if (config.trainingMaster() == TrainingMasterKind.RESIDENT) {
            resident = new ResidentAveragingTrainingMaster(config.perWorkerBatchSize(),
                    config.averagingFrequency(), config.seed(), config.step(), config.threadsPerWorker(),
                    config.averagingSync());
            resident.setRoundListener(progress);
            resident.setBarrierEpochAttempts(taskAttempts(spark.sparkContext()));
            sparkNet = new SparkDl4jMultiLayer(sc, net, resident);
        } else {
            stock = new ParameterAveragingTrainingMaster.Builder(config.workers(), config.perWorkerBatchSize())
                    .batchSizePerWorker(config.perWorkerBatchSize())
                    .averagingFrequency(config.averagingFrequency())
                    .workerPrefetchNumBatches(0)
                    .rddTrainingApproach(RDDTrainingApproach.Direct)
                    .repartionData(Repartition.Always)
                    .storageLevel(StorageLevel.MEMORY_ONLY())
                    .rngSeed(config.seed())
                    .collectTrainingStats(false)
                    .build();
            sparkNet = new SparkDl4jMultiLayer(sc, net, stock);
        }
        try {
            for (int epoch = 1; epoch <= config.epochs(); epoch++) {
                TrainStats stats = TrainStats.forEpoch(spark.sparkContext(), epoch);
                Timestamp started = new Timestamp(System.currentTimeMillis());
                long t0 = System.nanoTime();
                if (resident != null) {
                    resident.setEpochStats(stats);
                    sparkNet.fit(trainShards);
                } else {
                    stock.setListeners(List.of(new TrainStatsListener(stats)));
                    JavaRDD<DataSet> minibatches = minibatches(trainShards, config.perWorkerBatchSize(),
                            config.seed(), epoch);
                    sparkNet.fit(minibatches);
                    minibatches.unpersist(false);
                }
                long t1 = System.nanoTime();
                EvalResult eval = evaluation.evaluate(sparkNet.getNetwork(), testShards, FashionMnist.CLASSES);
                long t2 = System.nanoTime();
                EpochRecord record = new EpochRecord(epoch, stats.meanLoss(), stats.accuracy(), eval.accuracy(),
                        (t1 - t0) / 1e9, (t2 - t1) / 1e9, stats.examples(),
                        resident != null ? stats.workerSeconds() / config.workers() : Double.NaN, started,
                        new Timestamp(System.currentTimeMillis()));
                sink.epochDone(record, eval);
            }
        } finally {
            evaluation.release();
            if (resident != null) {
                resident.release();
            }
            if (stock != null) {
                stock.deleteTempFiles(sc);
            }
        }
        return sparkNet.getNetwork();
    }

    /**
     * How often Spark tries a task here (local[N] once, local[N,M] M times, clusters spark.task.maxFailures), read
     * from Spark's scheduler itself (private[spark] in Scala, public in bytecode) rather than re-parsing the master.
     */
    static int taskAttempts(org.apache.spark.SparkContext sc) {
        if (sc.taskScheduler() instanceof org.apache.spark.scheduler.TaskSchedulerImpl scheduler) {
            return scheduler.maxTaskFailures();
        }
        return sc.getConf().getInt("spark.task.maxFailures", 4);
    }

    /**
     * For the stock master: this epoch's minibatches of {@code batch} examples, cut in the executors from each
     * worker's shard after a per-epoch reshuffle of it.
     */
    static JavaRDD<DataSet> minibatches(JavaRDD<DataSet> shards, int batch, long seed, int epoch) {
        return shards.mapPartitionsWithIndex((partition, it) -> {
            if (!it.hasNext()) {
                return Collections.emptyIterator();
            }
            DataSet shard = it.next();
            int n = shard.numExamples();
            int[] perm = Shuffle.permutation(n, ResidentAveragingTrainingMaster.mix(seed, partition, epoch, -1));
            List<DataSet> out = new ArrayList<>((n + batch - 1) / batch);
            for (int from = 0; from < n; from += batch) {
                int[] idx = java.util.Arrays.copyOfRange(perm, from, Math.min(n, from + batch));
                out.add(new DataSet(shard.getFeatures().getRows(idx), shard.getLabels().getRows(idx)));
            }
            return out.iterator();
        }, true);
    }
}
