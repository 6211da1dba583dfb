package io.github.sparkdropout.train.worker;

import io.github.sparkdropout.model.MinibatchStep;
import io.github.sparkdropout.model.ParamVectors;
import io.github.sparkdropout.replica.Replica;
import io.github.sparkdropout.replica.ReplicaCache;
import io.github.sparkdropout.replica.ReplicaKey;
import io.github.sparkdropout.train.aggregate.Contribution;
import org.apache.spark.TaskContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.util.function.Supplier;


/**
 * One worker's training inside an executor task: its partition's shard (resident, cached by Spark) and its cached
 * replica, trained round by round. Round r takes minibatches {@code r * frequency ...} of this epoch's shuffle of the
 * shard, so a round's work depends only on (seed, partition, epoch, round) and the parameters it starts from.
 */
public final class ResidentWorker {
    private final WorkerSpec spec;
    private final int partition;
    private final DataSet shard;
    private final Replica replica;
    private final MinibatchStep step;

    /** The worker of {@code partition}, its replica set to {@code params}. */
    public ResidentWorker(WorkerSpec spec, int partition, DataSet shard, float[] params) {
        this(spec, partition, shard, ReplicaCache.ANONYMOUS_PARAMS, () -> params);
    }

    /**
     * The worker of {@code partition}, its replica holding the parameters with id {@code paramsId}: {@code params} is
     * called only if the cached replica does not hold them already (see {@link ReplicaCache}).
     */
    public ResidentWorker(WorkerSpec spec, int partition, DataSet shard, long paramsId, Supplier<float[]> params) {
        this.spec = spec;
        this.partition = partition;
        this.shard = shard;
        // a speculative copy of a task (attempt > 0, jobs mode only) must not share the original's replica
        TaskContext task = TaskContext.get();
        int attempt = task == null ? 0 : task.attemptNumber();
        this.replica = ReplicaCache.acquire(new ReplicaKey(spec.replicas().owner(), spec.replicas().part(),
                        partition, attempt),
                spec.networkJson().value(), paramsId, params, spec.threads());
        replica.holding(ReplicaCache.ANONYMOUS_PARAMS); // training changes them: identified again only by endsHolding
        this.step = replica.step(spec.step());
    }

    /** Rounds one epoch over shards of these sizes takes: the largest shard's minibatches, {@code frequency} a round. */
    public static int rounds(long[] shardSizes, int batch, int frequency) {
        long maxSteps = 0;
        for (long s : shardSizes) {
            maxSteps = Math.max(maxSteps, (s + batch - 1) / batch);
        }
        return (int) ((maxSteps + frequency - 1) / frequency);
    }

    /** True if this worker's shard has minibatches left for {@code round}. */
    private boolean hasWork(int round) {
        return (long) round * spec.frequency() * spec.batch() < shard.numExamples();
    }

    /**
     * Round {@code round}'s steps from the replica's current parameters; what this worker brings to the average: the
     * replica's own parameter vector, not a copy (unchanged until {@link #setParams} with the round's mean).
     */
    public Contribution trainRound(int round) {
        FaultInjection.check(spec.attempt(), partition, round, spec.epoch() + 1);
        if (!hasWork(round)) {
            return Contribution.none();
        }
        MultiLayerNetwork net = replica.net();
        int n = shard.numExamples();
        Nd4j.getRandom().setSeed(Seeds.masks(spec.seed(), partition, spec.epoch(), round));
        int[] perm = replica.permutation(n, Seeds.shuffle(spec.seed(), partition, spec.epoch()));
        INDArray features = shard.getFeatures();
        INDArray labels = shard.getLabels();
        int steps = 0;
        long examples = 0;
        int first = round * spec.frequency();
        for (int k = first; k < first + spec.frequency() && k < EpochOrder.minibatches(n, spec.batch()); k++) {
            int[] idx = EpochOrder.minibatch(perm, k, spec.batch());
            INDArray[] xy = replica.gather(features, labels, idx);
            spec.stats().add(step.step(net, xy[0], xy[1]), idx.length);
            steps++;
            examples += idx.length;
        }
        return new Contribution(net.params(), steps, examples);
    }

    /** The replica's network, holding the parameters of the last {@link #setParams}. */
    public MultiLayerNetwork net() {
        return replica.net();
    }

    /**
     * Identifies the parameters the replica holds now (the epoch's final mean) for the next epoch's {@code acquire}: so
     * nothing may change them afterwards (the epoch's end task only reads the network).
     */
    public void endsHolding(long paramsId) {
        replica.holding(paramsId);
    }

    /** Continues from the round's mean (null: no one trained, keep the parameters). */
    public void setParams(INDArray mean) {
        if (mean != null) {
            ParamVectors.set(replica.net(), mean);
        }
    }
}
