package io.github.sparkdropout.train;

import io.github.sparkdropout.model.ParamVectors;
import io.github.sparkdropout.model.StepKind;
import io.github.sparkdropout.replica.ReplicaCache;
import io.github.sparkdropout.replica.ReplicaKey;
import io.github.sparkdropout.spark.SparkFailures;
import io.github.sparkdropout.train.stats.RoundListener;
import io.github.sparkdropout.train.stats.TrainStats;
import io.github.sparkdropout.train.transport.BarrierTransport;
import io.github.sparkdropout.train.transport.EpochEnd;
import io.github.sparkdropout.train.transport.EpochEndTask;
import io.github.sparkdropout.train.transport.JobsTransport;
import io.github.sparkdropout.train.worker.ResidentWorker;
import io.github.sparkdropout.train.worker.WorkerSpec;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.shade.jackson.core.JsonProcessingException;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.dataformat.yaml.YAMLFactory;
import org.nd4j.shade.jackson.dataformat.yaml.YAMLGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.UUID;

/**
 * Synchronous parameter averaging on Spark, as DL4J's {@code ParameterAveragingTrainingMaster} does it, but with
 * the training data and the model replicas resident in the executors between rounds; driven, like DL4J's, by
 * {@code SparkDl4jMultiLayer.fit}, one call per epoch. This is the driver's side: it counts the epoch's rounds,
 * hands the epoch to a transport ({@link BarrierTransport} or {@link JobsTransport}) and sets the network to the
 * final mean. The workers' loop is {@link ResidentWorker}; the mean is {@code aggregate.ParameterAveraging}.
 *
 * <p>Input: the RDD of {@code data.Shards}: one {@link DataSet} per partition holding that worker's whole shard,
 * cached in executor memory. Nothing is exported, repartitioned or re-serialised per round but the parameter vector
 * (1 MB). Spark aborts a failed barrier stage instead of retrying its tasks, so this master trains the failed epoch
 * again from its starting parameters, as often as Spark would try a task.
 */
public final class ResidentAveragingTrainingMaster extends TrainingMasterDefaults {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ResidentAveragingTrainingMaster.class);

    private final TrainingSettings settings;
    private final transient Broadcast<String> networkJson;
    private final transient RoundListener listener;
    private final int epochAttempts;
    private final transient ExecutorLosses losses;
    private final String trainingId = UUID.randomUUID().toString();
    private transient BarrierTransport barrier;
    private transient long[] shardSizes;
    private transient int shardRddId = -1;
    private transient TrainStats stats;
    private int epoch = -1;
    private transient JavaRDD<DataSet> endData;
    private transient EpochEndTask endTask;
    private transient EpochEnd epochEnd;
    private int generation;
    private transient int lossesSeen; // executor losses up to the last epoch that went through

    /**
     * @param networkJson   the network's configuration, broadcast (workers rebuild their replicas from it)
     * @param epochAttempts how often a failed barrier epoch is tried ({@code SparkInternals.taskAttempts})
     */
    public ResidentAveragingTrainingMaster(TrainingSettings settings, Broadcast<String> networkJson,
                                           RoundListener listener, int epochAttempts) {
        this(settings, networkJson, listener, epochAttempts, null);
    }

    /** @param losses what the cluster took away, named when an epoch fails (may be null) */
    ResidentAveragingTrainingMaster(TrainingSettings settings, Broadcast<String> networkJson,
                                    RoundListener listener, int epochAttempts, ExecutorLosses losses) {
        this.losses = losses;
        if (settings.master() != TrainingMasterKind.RESIDENT) {
            throw new IllegalArgumentException("settings of a " + settings.master() + " master");
        }
        this.settings = settings;
        this.networkJson = networkJson;
        this.listener = listener;
        this.epochAttempts = Math.max(1, epochAttempts);
    }

    /** The next {@code fit} trains 0-based epoch {@code epoch}, its statistics going to {@code stats}. */
    public void prepareEpoch(int epoch, TrainStats stats) {
        prepareEpoch(epoch, stats, null, null);
    }

    /** ... and, in barrier mode, ends with {@code endTask} on {@code endData} (see {@link EpochEndTask}). */
    public void prepareEpoch(int epoch, TrainStats stats, JavaRDD<DataSet> endData, EpochEndTask endTask) {
        this.epoch = epoch;
        this.stats = stats;
        this.endData = endTask == null ? null : endData;
        this.endTask = endTask;
        this.epochEnd = null;
    }

    /** The last epoch's end-task results (null: none ran in the stage). */
    public EpochEnd epochEnd() {
        return epochEnd;
    }

    @Override
    public void executeTraining(SparkDl4jMultiLayer sparkNet, JavaRDD<DataSet> shards) {
        if (stats == null || epoch < 0) {
            throw new IllegalStateException("prepareEpoch before fit");
        }
        JavaSparkContext sc = sparkNet.getSparkContext();
        MultiLayerNetwork net = sparkNet.getNetwork();
        if (shardRddId != shards.id()) {
            shardSizes = shards.map(ds -> (long) ds.numExamples()).collect().stream().mapToLong(Long::longValue)
                    .toArray();
            shardRddId = shards.id();
        }
        long total = java.util.Arrays.stream(shardSizes).sum();
        int rounds = ResidentWorker.rounds(shardSizes, settings.perWorkerBatchSize(), settings.averagingFrequency());
        float[] start = ParamVectors.get(net);
        float[] end;
        if (settings.sync() == AveragingSync.BARRIER) {
            if (barrier == null) {
                barrier = new BarrierTransport("sparkdropout-averaging-" + trainingId, listener);
            }
            end = null;
            for (int attempt = 1; end == null; attempt++) {
                int mark = losses == null ? 0 : losses.count();
                try (JobDescription attemptOf = JobDescription.add(sc.sc(), "attempt " + attempt + " of "
                        + epochAttempts)) {
                    BarrierTransport.Epoch done = barrier.trainEpoch(sc, shards, endData, endTask, spec(attempt), start,
                            rounds, total);
                    end = done.params();
                    epochEnd = done.end();
                } catch (Exception e) { // SparkException (undeclared): Spark aborts a failed barrier stage
                    String lost = losses == null ? null : lostDuring(mark, e);
                    String why = lost != null ? lost : SparkFailures.summary(e);
                    if (attempt >= epochAttempts) {
                        String lostInEpoch = losses == null ? null : losses.since(lossesSeen);
                        throw new IllegalStateException(lostInEpoch == null ? SparkFailures.summary(e)
                                : lostInEpoch + "; then: " + SparkFailures.summary(e), e);
                    }
                    LOG.warn("a worker failed in epoch {} ({}); training the epoch again from its starting parameters"
                            + " (attempt {} of {})", epoch + 1, why, attempt + 1, epochAttempts);
                    stats.reset();
                    generation++; // tasks of the failed stage may still be stopping: never share their replicas
                }
            }
        } else {
            end = JobsTransport.trainEpoch(sc, shards, spec(1), start, rounds, total, listener);
        }
        ParamVectors.set(net, end);
        stats = null;
        lossesSeen = losses == null ? 0 : losses.count(); // an epoch went through: earlier losses are history
    }

    /** The executors lost since {@code mark}, waiting briefly for their events if Spark's message names a loss. */
    private String lostDuring(int mark, Exception e) {
        String message = String.valueOf(e.getMessage());
        boolean executorLost = message.contains("ExecutorLostFailure") || message.contains("lost")
                || message.contains("exited");
        try {
            return losses.since(mark, executorLost ? 2000 : 200);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            return losses.since(mark);
        }
    }

    private WorkerSpec spec(int attempt) {
        return new WorkerSpec(new ReplicaKey(trainingId, "train/g" + generation, 0, 0), networkJson, settings.seed(), epoch,
                attempt, settings.averagingFrequency(), settings.perWorkerBatchSize(), settings.step(),
                settings.threadsPerWorker(), stats);
    }

    /** Ends this training: stops its averaging endpoint, drops its replicas from the driver JVM's cache. */
    public void release() {
        try {
            if (barrier != null) {
                barrier.close();
                barrier = null;
            }
        } finally {
            ReplicaCache.evict(trainingId);
        }
    }

    @Override
    public String toJson() {
        return Mappers.write(Mappers.JSON, description());
    }

    @Override
    public String toYaml() {
        return Mappers.write(Mappers.YAML, description());
    }

    private Description description() {
        return new Description(Description.TYPE, settings.perWorkerBatchSize(), settings.averagingFrequency(),
                settings.seed(), settings.step(), settings.sync());
    }

    /** What {@link #toJson} and {@link #toYaml} say about this master: the settings that shape its training. */
    record Description(String type, int batchSizePerWorker, int averagingFrequency, long seed, StepKind step,
                       AveragingSync sync) {
        static final String TYPE = "resident-parameter-averaging";
    }

    /**
     * ND4J's shaded Jackson, as DL4J's own masters use: the application jar carries it, where Spark's Jackson is
     * whatever version the cluster has. Built on first use, in the few JVMs that describe a master.
     */
    private static final class Mappers {
        static final ObjectMapper JSON = new ObjectMapper();
        // plain YAML, as a person would write it: no document marker, quotes only where YAML needs them
        static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
                .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES).build());

        private Mappers() {
        }

        static String write(ObjectMapper mapper, Description description) {
            try {
                return mapper.writeValueAsString(description);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("cannot describe the training master", e);
            }
        }
    }
}
