package io.github.sparkdropout.train;

import org.apache.spark.BarrierTaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.rpc.RpcEndpointRef;
import org.deeplearning4j.core.storage.StatsStorageRouter;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.deeplearning4j.spark.api.TrainingHook;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.api.TrainingResult;
import org.deeplearning4j.spark.api.TrainingWorker;
import org.deeplearning4j.spark.api.stats.SparkTrainingStats;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.deeplearning4j.core.loader.DataSetLoader;
import org.deeplearning4j.core.loader.MultiDataSetLoader;

import scala.collection.JavaConverters;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;

import java.io.Serializable;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;

/**
 * Synchronous parameter averaging on Spark, as DL4J's {@code ParameterAveragingTrainingMaster} does it, but with
 * the training data and the model replicas resident in the executors between rounds.
 *
 * <p>Input: the RDD of {@link io.github.sparkdropout.data.Shards}: one {@link DataSet} per partition holding that
 * worker's whole shard, cached in executor memory. Each epoch every worker reshuffles its shard (seeded by
 * seed, epoch, partition); each averaging round is one Spark job in which every worker sets its cached replica to
 * the broadcast average, takes {@code averagingFrequency} minibatch steps of {@code perWorkerBatchSize}
 * examples, and returns its parameters; the driver averages them. Nothing is exported, repartitioned or
 * re-serialised per round but the parameter vector (1 MB).
 *
 * <p>How the replicas meet ({@link AveragingSync}): with {@code JOBS} each round is one Spark job as above; with
 * {@code BARRIER} the whole epoch is one Spark barrier stage (all workers scheduled at once; Spark aborts a failed
 * barrier result stage, so this master re-runs the epoch, up to {@link #setBarrierEpochAttempts} times)
 * whose tasks stay alive and, after every averaging period, send their parameters to the driver's
 * {@link AveragingEndpoint} over Spark's RPC and continue from the mean it replies (the same mean, computed by
 * the same code in the same order, so both modes give bit-identical models). A Spark job costs 25-40 ms of
 * scheduling even when empty on a small machine; an RPC round trip costs a fraction of a millisecond locally.
 *
 * <p>Dropout masks: each task seeds its thread's ND4J RNG from (seed, partition, epoch, round), so no two replicas
 * and no two rounds share a mask stream, and a rerun with the same seed is reproducible.
 */
public final class ResidentAveragingTrainingMaster
        implements TrainingMaster<TrainingResult, TrainingWorker<TrainingResult>>, Serializable {
    private static final long serialVersionUID = 1L;

    /** Called on the driver after every round. */
    public interface RoundListener {
        void roundDone(int round, int rounds, long examplesDone, long examplesTotal);
    }

    private final int perWorkerBatchSize;
    private final int averagingFrequency;
    private final long seed;
    private final StepKind stepKind;
    private final int threadsPerWorker;
    private final AveragingSync sync;
    private final String trainingId = UUID.randomUUID().toString();
    private transient Broadcast<String> confJson;
    private transient TrainStats stats;
    private transient RoundListener roundListener;
    private transient long[] shardSizes;
    private transient int shardRddId = -1;
    private transient RpcEndpointRef averagingEndpoint;
    private transient volatile long[] progress; // barrier mode, this epoch: {rounds, examples in all, examples done}
    private int barrierEpochAttempts = 1;
    private int replicaGeneration;
    /** Tests only: how many barrier epochs to fail on purpose (partition 0, round 1) to exercise the retry. */
    static final java.util.concurrent.atomic.AtomicInteger injectedFailures = new java.util.concurrent.atomic.AtomicInteger();
    private int epoch;

    /** {@code sync} must be resolved: {@link AveragingSync#BARRIER} or {@link AveragingSync#JOBS}. */
    public ResidentAveragingTrainingMaster(int perWorkerBatchSize, int averagingFrequency, long seed,
                                           StepKind stepKind, int threadsPerWorker, AveragingSync sync) {
        if (perWorkerBatchSize < 1 || averagingFrequency < 1) {
            throw new IllegalArgumentException("batch size and averaging frequency must be >= 1");
        }
        if (sync == null || sync == AveragingSync.AUTO) {
            throw new IllegalArgumentException("averaging sync not resolved: " + sync);
        }
        this.sync = sync;
        this.perWorkerBatchSize = perWorkerBatchSize;
        this.averagingFrequency = averagingFrequency;
        this.seed = seed;
        this.stepKind = stepKind;
        this.threadsPerWorker = threadsPerWorker;
    }

    /** Where the workers' per-minibatch loss/accuracy go for the next {@code fit} (one epoch). */
    public void setEpochStats(TrainStats stats) {
        this.stats = stats;
    }

    public void setRoundListener(RoundListener listener) {
        this.roundListener = listener;
    }

    /** Rounds one epoch over shards of these sizes takes. */
    public int roundsPerEpoch(long[] sizes) {
        long maxSteps = 0;
        for (long s : sizes) {
            maxSteps = Math.max(maxSteps, (s + perWorkerBatchSize - 1) / perWorkerBatchSize);
        }
        return (int) ((maxSteps + averagingFrequency - 1) / averagingFrequency);
    }

    @Override
    public void executeTraining(SparkDl4jMultiLayer sparkNet, JavaRDD<DataSet> shards) {
        JavaSparkContext sc = sparkNet.getSparkContext();
        MultiLayerNetwork net = sparkNet.getNetwork();
        if (confJson == null) {
            confJson = sc.broadcast(net.getLayerWiseConfigurations().toJson());
        }
        if (shardRddId != shards.id()) {
            shardSizes = shards.map(ds -> (long) ds.numExamples()).collect().stream()
                    .mapToLong(Long::longValue).toArray();
            shardRddId = shards.id();
        }
        long total = 0;
        for (long s : shardSizes) {
            total += s;
        }
        int rounds = roundsPerEpoch(shardSizes);
        if (sync == AveragingSync.BARRIER) {
            for (int attempt = 1; ; attempt++) {
                try {
                    trainEpochInBarrierStage(sc, net, shards, rounds, total);
                    break;
                } catch (Exception e) { // SparkException: the barrier stage failed, and Spark aborts a failed one
                    if (attempt >= barrierEpochAttempts) {
                        throw e instanceof RuntimeException ? (RuntimeException) e : new IllegalStateException(e);
                    }
                    System.err.printf("warning: a worker failed in the epoch's barrier stage (%s); training the"
                            + " epoch again from its starting parameters (attempt %d of %d)%n",
                            firstLine(e.getMessage()), attempt + 1, barrierEpochAttempts);
                    stats.reset();
                    replicaGeneration++; // tasks of the failed stage may still be stopping: never share their replicas
                }
            }
        } else {
            trainEpochAsJobs(sc, net, shards, rounds, total);
        }
        epoch++;
    }

    /**
     * How often an epoch's barrier stage is tried: Spark retries failed tasks of ordinary stages
     * ({@code spark.task.maxFailures}) but aborts a failed barrier result stage, so this master re-runs the epoch.
     */
    public void setBarrierEpochAttempts(int attempts) {
        this.barrierEpochAttempts = Math.max(1, attempts);
    }

    private String replicaPrefix() {
        return trainingId + "/train/g" + replicaGeneration + "/";
    }

    private static String firstLine(String s) {
        return s == null ? "no message" : s.lines().findFirst().orElse("");
    }

    private void trainEpochInBarrierStage(JavaSparkContext sc, MultiLayerNetwork net, JavaRDD<DataSet> shards,
                                          int rounds, long total) {
        if (averagingEndpoint == null) {
            averagingEndpoint = AveragingEndpoint.register("sparkdropout-averaging-" + trainingId,
                    this::roundAveraged);
        }
        progress = new long[]{rounds, total, 0};
        Broadcast<float[]> params = sc.broadcast(ParamVectors.get(net));
        EpochTask task = new EpochTask(new RoundTask(replicaPrefix(), confJson, params, stats, seed, epoch, 0,
                averagingFrequency, perWorkerBatchSize, stepKind, threadsPerWorker), rounds,
                averagingEndpoint.name(), injectedFailures.getAndUpdate(v -> Math.max(0, v - 1)) > 0);
        ClassTag<RoundResult> tag = ClassTag$.MODULE$.apply(RoundResult.class);
        List<RoundResult> results;
        try {
            results = JavaRDD.fromRDD(shards.rdd().barrier().mapPartitions(task, true, tag), tag).collect();
        } finally {
            params.destroy();
        }
        for (RoundResult r : results) {
            if (r.params != null) { // the lowest partition returns the final average; all replicas hold it
                ParamVectors.set(net, r.params);
                break;
            }
        }
    }

    /** Barrier mode: called by the averaging endpoint (an RPC thread on the driver) as each round's mean is out. */
    private void roundAveraged(int round, long examples) {
        long[] p = progress; // rounds, total, examples done
        if (p == null || roundListener == null) {
            return;
        }
        p[2] += examples;
        roundListener.roundDone(round + 1, (int) p[0], p[2], p[1]);
    }

    private void trainEpochAsJobs(JavaSparkContext sc, MultiLayerNetwork net, JavaRDD<DataSet> shards,
                                  int rounds, long total) {
        long done = 0;
        for (int round = 0; round < rounds; round++) {
            Broadcast<float[]> params = sc.broadcast(ParamVectors.get(net));
            RoundTask task = new RoundTask(replicaPrefix(), confJson, params, stats, seed, epoch, round,
                    averagingFrequency, perWorkerBatchSize, stepKind, threadsPerWorker);
            List<RoundResult> results;
            try {
                results = shards.mapPartitionsWithIndex(task, true).collect();
            } finally {
                params.destroy();
            }
            float[] avg = average(results);
            if (avg != null) {
                ParamVectors.set(net, avg);
            }
            for (RoundResult r : results) {
                done += r.examples;
            }
            if (roundListener != null) {
                roundListener.roundDone(round + 1, rounds, done, total);
            }
        }
    }

    /** Plain mean of the parameter vectors of the workers that trained this round (DL4J's averaging). */
    static float[] average(List<RoundResult> results) {
        float[] sum = null;
        int n = 0;
        for (RoundResult r : results) {
            if (r.steps == 0) {
                continue;
            }
            if (sum == null) {
                sum = r.params.clone();
            } else {
                for (int i = 0; i < sum.length; i++) {
                    sum[i] += r.params[i];
                }
            }
            n++;
        }
        if (sum != null && n > 1) {
            float inv = 1.0f / n;
            for (int i = 0; i < sum.length; i++) {
                sum[i] *= inv;
            }
        }
        return sum;
    }

    /** What a worker returns from a round. */
    static final class RoundResult implements Serializable {
        private static final long serialVersionUID = 1L;
        final float[] params;
        final int steps;
        final long examples;

        RoundResult(float[] params, int steps, long examples) {
            this.params = params;
            this.steps = steps;
            this.examples = examples;
        }
    }

    /** One worker's part of one averaging round; runs in the executor. */
    static final class RoundTask implements Function2<Integer, Iterator<DataSet>, Iterator<RoundResult>> {
        private static final long serialVersionUID = 1L;
        private final String replicaPrefix;
        private final Broadcast<String> confJson;
        private final Broadcast<float[]> params;
        private final TrainStats stats;
        private final long seed;
        private final int epoch;
        private final int round;
        private final int frequency;
        private final int batch;
        private final StepKind stepKind;
        private final int threads;

        RoundTask(String replicaPrefix, Broadcast<String> confJson, Broadcast<float[]> params, TrainStats stats,
                  long seed, int epoch, int round, int frequency, int batch, StepKind stepKind, int threads) {
            this.replicaPrefix = replicaPrefix;
            this.confJson = confJson;
            this.params = params;
            this.stats = stats;
            this.seed = seed;
            this.epoch = epoch;
            this.round = round;
            this.frequency = frequency;
            this.batch = batch;
            this.stepKind = stepKind;
            this.threads = threads;
        }

        @Override
        public Iterator<RoundResult> call(Integer partition, Iterator<DataSet> it) {
            if (!it.hasNext()) {
                return Collections.emptyIterator();
            }
            DataSet shard = it.next();
            if (round * frequency * batch >= shard.numExamples()) {
                return Collections.singletonList(new RoundResult(null, 0, 0)).iterator();
            }
            long taskStart = System.nanoTime();
            Replica replica = replica(partition);
            float[] p = params.value();
            ParamVectors.set(replica.net(), p);
            RoundResult r = trainSteps(replica, partition, shard, round);
            stats.addWorkerNanos(System.nanoTime() - taskStart);
            return Collections.singletonList(r).iterator();
        }

        Replica replica(int partition) {
            NativeThreads.limit(threads);
            return ReplicaCache.get(replicaPrefix + partition, confJson.value());
        }

        /** Round {@code round}'s {@code frequency} steps of this worker, from the replica's current parameters. */
        RoundResult trainSteps(Replica replica, int partition, DataSet shard, int round) {
            MultiLayerNetwork net = replica.net();
            int n = shard.numExamples();
            int start = round * frequency * batch;
            if (start >= n) {
                return new RoundResult(null, 0, 0);
            }
            Nd4j.getRandom().setSeed(mix(seed, partition, epoch, round));
            int[] perm = replica.permutation(epoch, n, mix(seed, partition, epoch, -1));
            MinibatchStep step = replica.step(stepKind);
            INDArray features = shard.getFeatures();
            INDArray labels = shard.getLabels();
            int steps = 0;
            long examples = 0;
            for (int s = 0; s < frequency; s++) {
                int from = start + s * batch;
                if (from >= n) {
                    break;
                }
                int to = Math.min(n, from + batch);
                INDArray[] batchXY = replica.gather(features, labels, java.util.Arrays.copyOfRange(perm, from, to));
                MinibatchStep.Outcome o = step.step(net, batchXY[0], batchXY[1]);
                stats.add(o.meanLoss(), o.correct(), to - from);
                steps++;
                examples += to - from;
            }
            return new RoundResult(ParamVectors.get(net), steps, examples);
        }
    }

    /**
     * One worker's whole epoch inside a barrier stage: every round it trains, sends its parameters to the driver's
     * {@link AveragingEndpoint} and sets its replica to the mean it gets back. Every task joins every round, even
     * one with no data left (it sends no parameters), or the others would wait for it forever.
     */
    static final class EpochTask extends AbstractFunction1<scala.collection.Iterator<DataSet>,
            scala.collection.Iterator<RoundResult>> implements Serializable {
        private static final long serialVersionUID = 1L;
        private final RoundTask work; // what a worker needs for every round (its round field is unused here)
        private final int rounds;
        private final String endpoint;
        private final boolean injectFailure;

        EpochTask(RoundTask work, int rounds, String endpoint, boolean injectFailure) {
            this.injectFailure = injectFailure;
            this.work = work;
            this.rounds = rounds;
            this.endpoint = endpoint;
        }

        @Override
        public scala.collection.Iterator<RoundResult> apply(scala.collection.Iterator<DataSet> it) {
            BarrierTaskContext ctx = BarrierTaskContext.get();
            int partition = ctx.partitionId();
            DataSet shard = it.hasNext() ? it.next() : null;
            long busyStart = System.nanoTime();
            long waited = 0;
            AveragingEndpoint.Client averaging = new AveragingEndpoint.Client(endpoint, ctx);
            Replica replica = shard == null ? null : work.replica(partition);
            if (replica != null) {
                float[] p = work.params.value();
                ParamVectors.set(replica.net(), p);
            }
            float[] avg = null;
            for (int round = 0; round < rounds; round++) {
                if (injectFailure && partition == 0 && round == Math.min(1, rounds - 1)) {
                    throw new IllegalStateException("failure injected by a test");
                }
                RoundResult mine = replica == null ? new RoundResult(null, 0, 0)
                        : work.trainSteps(replica, partition, shard, round);
                long w0 = System.nanoTime();
                avg = averaging.average(round, mine);
                waited += System.nanoTime() - w0;
                if (avg != null && replica != null) {
                    ParamVectors.set(replica.net(), avg);
                }
            }
            work.stats.addWorkerNanos(System.nanoTime() - busyStart - waited);
            RoundResult out = partition == 0 && avg != null ? new RoundResult(avg, 0, 0) : new RoundResult(null, 0, 0);
            return JavaConverters.asScalaIterator(Collections.singletonList(out).iterator());
        }
    }

    /** A well-mixed seed from the run seed and the coordinates of a task (SplitMix64 finaliser). */
    static long mix(long seed, long partition, long epoch, long round) {
        long z = seed ^ (partition * 0x9E3779B97F4A7C15L) ^ (epoch * 0xC2B2AE3D27D4EB4FL) ^ (round * 0x165667B19E3779F9L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Ends this training: stops its averaging endpoint, drops its replicas from the driver JVM's cache (executors drop theirs by LRU). */
    public void release() {
        if (averagingEndpoint != null) {
            AveragingEndpoint.unregister(averagingEndpoint);
            averagingEndpoint = null;
        }
        ReplicaCache.evict(trainingId + "/");
    }

    // ---- TrainingMaster methods this job does not use: this master trains MultiLayerNetworks on in-memory RDDs.

    @Override
    public void executeTrainingPaths(SparkDl4jMultiLayer network, SparkComputationGraph graph,
                                     JavaRDD<String> paths, DataSetLoader dsLoader, MultiDataSetLoader mdsLoader) {
        throw new UnsupportedOperationException("ResidentAveragingTrainingMaster trains from an RDD of shards only");
    }

    @Override
    public void executeTraining(SparkComputationGraph graph, JavaRDD<DataSet> trainingData) {
        throw new UnsupportedOperationException("ResidentAveragingTrainingMaster trains MultiLayerNetworks only");
    }

    @Override
    public void executeTrainingMDS(SparkComputationGraph graph, JavaRDD<MultiDataSet> trainingData) {
        throw new UnsupportedOperationException("ResidentAveragingTrainingMaster trains MultiLayerNetworks only");
    }

    @Override
    public TrainingWorker<TrainingResult> getWorkerInstance(SparkDl4jMultiLayer network) {
        throw new UnsupportedOperationException("workers are RoundTasks, created per round");
    }

    @Override
    public TrainingWorker<TrainingResult> getWorkerInstance(SparkComputationGraph graph) {
        throw new UnsupportedOperationException("ResidentAveragingTrainingMaster trains MultiLayerNetworks only");
    }

    @Override
    public void removeHook(TrainingHook trainingHook) {
        throw new UnsupportedOperationException("training hooks are not supported");
    }

    @Override
    public void addHook(TrainingHook trainingHook) {
        throw new UnsupportedOperationException("training hooks are not supported");
    }

    @Override
    public String toJson() {
        return "{\"type\":\"resident-parameter-averaging\",\"batchSizePerWorker\":" + perWorkerBatchSize
                + ",\"averagingFrequency\":" + averagingFrequency + ",\"seed\":" + seed + ",\"step\":\"" + stepKind + "\"}";
    }

    @Override
    public String toYaml() {
        return "type: resident-parameter-averaging\nbatchSizePerWorker: " + perWorkerBatchSize
                + "\naveragingFrequency: " + averagingFrequency + "\nseed: " + seed + "\n";
    }

    @Override
    public void setCollectTrainingStats(boolean collectTrainingStats) {
        if (collectTrainingStats) {
            throw new UnsupportedOperationException("use TrainStats (per-epoch loss/accuracy) instead");
        }
    }

    @Override
    public boolean getIsCollectTrainingStats() {
        return false;
    }

    @Override
    public SparkTrainingStats getTrainingStats() {
        return null;
    }

    @Override
    public void setListeners(Collection<TrainingListener> listeners) {
        throw new UnsupportedOperationException("this master records TrainStats itself; extra listeners unsupported");
    }

    @Override
    public void setListeners(StatsStorageRouter router, Collection<TrainingListener> listeners) {
        setListeners(listeners);
    }

    @Override
    public boolean deleteTempFiles(JavaSparkContext sc) {
        return true; // nothing is written to disk
    }

    @Override
    public boolean deleteTempFiles(org.apache.spark.SparkContext sc) {
        return true;
    }
}
