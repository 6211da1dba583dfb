package io.github.sparkdropout.train;

import io.github.sparkdropout.data.Shards;
import io.github.sparkdropout.data.Shuffle;
import io.github.sparkdropout.model.LastStepListener;
import io.github.sparkdropout.model.LeanSgdStep;
import io.github.sparkdropout.model.StepKind;
import io.github.sparkdropout.spark.Deployment;
import io.github.sparkdropout.train.stats.RoundListener;
import io.github.sparkdropout.train.stats.TrainStats;
import io.github.sparkdropout.train.transport.EpochEnd;
import io.github.sparkdropout.train.transport.EpochEndTask;
import io.github.sparkdropout.train.worker.EpochOrder;
import io.github.sparkdropout.train.worker.Seeds;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.linalg.dataset.DataSet;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A network trained with DL4J's Spark parameter averaging, one epoch at a time ({@code SparkDl4jMultiLayer.fit}):
 * with our {@link ResidentAveragingTrainingMaster}, or DL4J's stock {@link ParameterAveragingTrainingMaster}.
 * Each epoch's loss and accuracy come back as {@link TrainStats}.
 */
public final class DistributedTraining implements AutoCloseable {
    private final JavaSparkContext sc;
    private final TrainingSettings settings;
    private final SparkDl4jMultiLayer sparkNet;
    private final ResidentAveragingTrainingMaster resident;
    private final ParameterAveragingTrainingMaster stock;
    private final ExecutorLosses losses;
    private final boolean ownLosses;

    /**
     * @param net         the network to train (its parameters are updated in place after every epoch)
     * @param networkJson {@code net}'s configuration, broadcast once and shared with whoever else rebuilds it
     * @param progress    told after every averaging round (resident master only)
     */
    public DistributedTraining(JavaSparkContext sc, MultiLayerNetwork net, Broadcast<String> networkJson,
                               TrainingSettings settings, RoundListener progress) {
        this(sc, net, networkJson, settings, progress, null);
    }

    /** @param losses the executors the cluster takes away, named when an epoch fails (null: listen from now on) */
    public DistributedTraining(JavaSparkContext sc, MultiLayerNetwork net, Broadcast<String> networkJson,
                               TrainingSettings settings, RoundListener progress, ExecutorLosses losses) {
        this.sc = sc;
        this.settings = settings;
        if (settings.step() == StepKind.LEAN && settings.master() == TrainingMasterKind.RESIDENT) {
            LeanSgdStep.of(net); // refuses here, on the driver, a network the lean step does not implement
        }
        this.ownLosses = losses == null;
        this.losses = losses == null ? ExecutorLosses.listenOn(sc.sc()) : losses;
        if (settings.master() == TrainingMasterKind.RESIDENT) {
            resident = new ResidentAveragingTrainingMaster(settings, networkJson, RoundListener.logging(progress),
                    Deployment.of(sc.sc()).taskAttempts(), this.losses);
            stock = null;
            sparkNet = new SparkDl4jMultiLayer(sc, net, resident);
        } else {
            resident = null;
            stock = new ParameterAveragingTrainingMaster.Builder(settings.workers(), settings.perWorkerBatchSize())
                    .batchSizePerWorker(settings.perWorkerBatchSize())
                    .averagingFrequency(settings.averagingFrequency())
                    .workerPrefetchNumBatches(0)
                    .rddTrainingApproach(RDDTrainingApproach.Direct)
                    .repartionData(Repartition.Always)
                    .storageLevel(StorageLevel.MEMORY_ONLY())
                    .rngSeed(settings.seed())
                    .collectTrainingStats(false)
                    .build();
            sparkNet = new SparkDl4jMultiLayer(sc, net, stock);
        }
    }

    /** Trains 1-based epoch {@code epoch} on {@code shards} (one shard per worker, see {@code data.Shards}). */
    public TrainStats fitEpoch(int epoch, JavaRDD<DataSet> shards) {
        return fitEpoch(epoch, shards, null, null);
    }

    /**
     * Trains epoch {@code epoch}; where the epoch is one barrier stage whose tasks can also see {@code endData}'s
     * partitions (as many as the shards), each task then runs {@code endTask} on its replica and its partition of
     * {@code endData}, and {@link #epochEnd()} has the results; otherwise {@link #epochEnd()} is null and the caller
     * does that work itself.
     */
    public TrainStats fitEpoch(int epoch, JavaRDD<DataSet> shards, JavaRDD<DataSet> endData, EpochEndTask endTask) {
        TrainStats stats = TrainStats.forEpoch(sc.sc(), epoch);
        if (resident != null) {
            resident.prepareEpoch(epoch - 1, stats, endData, endTask);
            sparkNet.fit(shards);
        } else {
            stock.setListeners(List.of(new LastStepListener(stats::add)));
            JavaRDD<DataSet> minibatches = minibatches(shards, settings.perWorkerBatchSize(), settings.seed(),
                    epoch - 1);
            try {
                sparkNet.fit(minibatches);
            } finally {
                minibatches.unpersist(false);
            }
        }
        return stats;
    }

    public MultiLayerNetwork network() {
        return sparkNet.getNetwork();
    }

    /** The last epoch's {@link EpochEndTask} results, or null if its tasks did not run one. */
    public EpochEnd epochEnd() {
        return resident == null ? null : resident.epochEnd();
    }

    @Override
    public void close() {
        if (ownLosses) {
            losses.stop(sc.sc());
        }
        if (resident != null) {
            resident.release();
        }
        if (stock != null) {
            stock.deleteTempFiles(sc);
        }
    }

    /**
     * For the stock master: this epoch's minibatches of {@code batch} examples, cut in the executors from each
     * worker's shard after the same per-epoch shuffle our own workers use.
     */
    static JavaRDD<DataSet> minibatches(JavaRDD<DataSet> shards, int batch, long seed, int epoch) {
        return shards.mapPartitionsWithIndex((partition, it) -> {
            if (!it.hasNext()) {
                return Collections.emptyIterator();
            }
            DataSet shard = it.next();
            int n = shard.numExamples();
            int[] order = Shuffle.permutation(n, Seeds.shuffle(seed, partition, epoch));
            List<DataSet> out = new ArrayList<>(EpochOrder.minibatches(n, batch));
            for (int k = 0; k < EpochOrder.minibatches(n, batch); k++) {
                int[] idx = EpochOrder.minibatch(order, k, batch);
                out.add(new DataSet(Shards.featureRows(shard.getFeatures(), idx), shard.getLabels().getRows(idx)));
            }
            return out.iterator();
        }, true);
    }
}
