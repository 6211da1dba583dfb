package io.github.sparkdropout.train.transport;

import io.github.sparkdropout.concurrent.DaemonThreads;
import io.github.sparkdropout.model.ParamVectors;
import io.github.sparkdropout.replica.ReplicaCache;
import io.github.sparkdropout.spark.Deployment;
import io.github.sparkdropout.spark.SparkInternals;
import io.github.sparkdropout.train.aggregate.Contribution;
import io.github.sparkdropout.train.aggregate.RoundCollector;
import io.github.sparkdropout.train.stats.RoundListener;
import io.github.sparkdropout.train.worker.ResidentWorker;
import io.github.sparkdropout.train.worker.WorkerSpec;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.rdd.RDD;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import scala.collection.JavaConverters;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Replicas meet inside ONE Spark barrier stage per epoch: the stage's tasks (all scheduled at once) stay alive for
 * every round and, after each, send their parameters to an endpoint in the driver's Spark RPC and continue from
 * the mean it replies ({@link RoundCollector}: the same mean, in the same order, as {@link JobsTransport}, so both
 * give bit-identical models). A round is one RPC round trip (in local mode a direct call: see
 * {@link SparkInternals}), far cheaper than scheduling a Spark job.
 *
 * <p>Why not {@code BarrierTaskContext.allGather}: in Spark 3.5 every allGather/barrier call polls for its reply
 * with {@code Thread.sleep(1000)}, so each round would cost a second.
 */
public final class BarrierTransport implements AutoCloseable {
    private final SparkInternals.DriverEndpoint endpoint;
    private final RoundListener listener;
    private RoundMean roundMean; // this round's reply, one for all its workers (the handler's: one request at a time)
    // the newest round's mean (the collector's buffer): after the stage, its final mean, which every replica holds
    private volatile INDArray lastMean;
    private volatile float[] epochStart; // this epoch's, for the workers whose replicas do not hold them
    private float[] lastEnd; // the last epoch's final mean, and the id its replicas know it by
    private long lastEndParamsId = ReplicaCache.ANONYMOUS_PARAMS;
    private static final AtomicLong START_REQUESTS = new AtomicLong();
    private volatile long[] progress = {0, 0, 0}; // this epoch: rounds, examples in all, examples done
    private static final String INTERRUPT_ON_CANCEL = "spark.job.interruptOnCancel"; // SparkContext's key
    private volatile long lastProgress = System.nanoTime();
    // where a round's time goes, seen from the driver (the "rounds" log): the spread of the workers' arrivals and the
    // time from the last arrival to the mean being out, summed over this epoch's rounds
    private static final org.slf4j.Logger ROUNDS = org.slf4j.LoggerFactory.getLogger("io.github.sparkdropout.rounds");
    private long firstArrival;
    private long lastArrival;
    private int arrivals;
    private long spreadNanos;
    private long meanNanos;
    private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(
            DaemonThreads.named("sparkdropout-barrier-watchdog"));

    /**
     * Registers the averaging endpoint {@code name} in the driver; {@link #close} removes it. {@code listener} is
     * called by the thread that completes a round (Spark's RPC thread; in local mode the last worker's task) before
     * the workers get their mean: it must not throw.
     */
    public BarrierTransport(String name, RoundListener listener) {
        this.listener = listener;
        RoundCollector collector = new RoundCollector(this::roundAveraged);
        this.endpoint = SparkInternals.registerOnDriver(name, (message, reply) -> {
            if (message instanceof StartRequest) {
                START_REQUESTS.incrementAndGet();
                reply.send(epochStart); // read-only for everyone: replicas copy it into their own buffers
                return;
            }
            AverageRequest r = (AverageRequest) message;
            arrived();
            collector.contribute(r.stageId(), r.stageAttempt(), r.round(), r.partition(), r.partitions(),
                    r.contribution(), new RoundCollector.Caller() {
                        @Override
                        public void send(INDArray mean) {
                            if (roundMean == null) {
                                roundMean = new RoundMean(mean);
                                if (mean != null) {
                                    lastMean = mean;
                                }
                            }
                            reply.send(roundMean);
                        }

                        @Override
                        public void fail(String why) {
                            reply.fail(why);
                        }
                    });
        });
    }

    private synchronized void arrived() {
        long now = System.nanoTime();
        if (arrivals++ == 0) {
            firstArrival = now;
        }
        lastArrival = now;
    }

    /** Called by the endpoint's handler as each round's mean is out, before its replies. */
    private void roundAveraged(int round, long examples) {
        synchronized (this) {
            spreadNanos += lastArrival - firstArrival;
            meanNanos += System.nanoTime() - lastArrival;
            arrivals = 0;
        }
        // one reply object per round, the same for every worker: serialised once when workers are remote
        roundMean = null;
        long[] p = progress;
        p[2] += examples;
        lastProgress = System.nanoTime();
        listener.roundDone(round + 1, (int) p[0], p[2], p[1]);
    }

    /** How many start requests this JVM's averaging endpoints have answered (tests, diagnostics). */
    public static long startRequestsAnswered() {
        return START_REQUESTS.get();
    }

    /** A fresh id for a set of parameters (see {@link ReplicaCache}). */
    private static long newParamsId() {
        long id;
        do {
            id = ThreadLocalRandom.current().nextLong();
        } while (id == ReplicaCache.ANONYMOUS_PARAMS);
        return id;
    }

    /** An epoch's outcome: the final mean, and the workers' end-task results (null: no end task ran). */
    public record Epoch(float[] params, EpochEnd end) {
    }

    /**
     * One epoch of {@code rounds} rounds from {@code start} as one barrier stage; returns the final mean (taken from
     * the driver's own last round: no task sends its 1 MB of parameters back). If
     * {@code endData} has as many partitions as {@code shards}, each task then runs {@code endTask} on its replica
     * (holding the final mean) and its partition of {@code endData}, in the same stage.
     */
    public Epoch trainEpoch(JavaSparkContext sc, JavaRDD<DataSet> shards, JavaRDD<DataSet> endData,
                            EpochEndTask endTask, WorkerSpec spec, float[] start, int rounds, long examplesTotal) {
        progress = new long[]{rounds, examplesTotal, 0};
        lastMean = null; // a superseded attempt's rounds are refused once this stage contributes
        lastProgress = System.nanoTime();
        boolean withEnd = endTask != null && endData != null
                && endData.getNumPartitions() == shards.getNumPartitions();
        // a barrier stage's RDDs must all have its task count: the zip pairs shard i with endData's partition i
        @SuppressWarnings("unchecked") // the task reads a DataSet or a DataSet pair: no extra RDD for the plain case
        RDD<Object> input = withEnd
                ? shards.zipPartitions(endData, (train, end) -> Collections.<Object>singletonList(new DataSet[]{
                        train.hasNext() ? train.next() : null, end.hasNext() ? end.next() : null}).iterator()).rdd()
                : (RDD<Object>) (RDD<?>) shards.rdd();
        // replicas that ended the last epoch hold its final mean: when that is this epoch's start, no task asks for it
        long startParamsId = Arrays.equals(start, lastEnd) ? lastEndParamsId : newParamsId();
        long endParamsId = newParamsId();
        epochStart = start;
        synchronized (this) {
            spreadNanos = 0;
            meanNanos = 0;
            arrivals = 0;
        }
        long stageStart = System.nanoTime();
        long driverSerialising = SparkInternals.serialisingNanos();
        long stageStartMillis = System.currentTimeMillis();
        EpochTask task = new EpochTask(spec, startParamsId, endParamsId, rounds, endpoint.name(),
                withEnd ? endTask : null);
        ClassTag<TaskResult> tag = ClassTag$.MODULE$.apply(TaskResult.class);
        List<TaskResult> results;
        // a job TAG, not a job group: the caller's own group (a notebook's, an application's) stays as it was
        String jobTag = endpoint.name() + "-" + UUID.randomUUID();
        String interrupt = sc.getLocalProperty(INTERRUPT_ON_CANCEL);
        sc.sc().addJobTag(jobTag);
        sc.setLocalProperty(INTERRUPT_ON_CANCEL, "true"); // tasks waiting for a round end when cancelled
        ScheduledFuture<?> watch = watchdog.scheduleWithFixedDelay(() -> cancelIfStarved(sc, jobTag,
                shards.getNumPartitions()), 1, 1, TimeUnit.SECONDS);
        try {
            results = JavaRDD.fromRDD(input.barrier().mapPartitions(task, true, tag), tag).collect();
        } finally {
            watch.cancel(false);
            sc.sc().removeJobTag(jobTag);
            sc.setLocalProperty(INTERRUPT_ON_CANCEL, interrupt);
        }
        logRounds(spec, rounds, shards.getNumPartitions(), System.nanoTime() - stageStart, stageStartMillis,
                System.currentTimeMillis(), SparkInternals.serialisingNanos() - driverSerialising, results);
        INDArray last = lastMean;
        float[] end = last == null ? start : ParamVectors.toFloats(last); // null: no round trained anything
        lastEnd = end == start ? start.clone() : end; // never the caller's own array
        lastEndParamsId = endParamsId;
        List<Serializable> ends = new ArrayList<>();
        long endNanos = 0;
        boolean endComplete = withEnd;
        for (TaskResult r : results) {
            ends.add(r.endResult());
            endNanos = Math.max(endNanos, r.endNanos());
            endComplete &= !r.endMissed();
        }
        // a partition whose end data had no replica to run on: the caller does the whole end work itself
        return new Epoch(end, endComplete ? new EpochEnd(ends, endNanos / 1e9) : null);
    }

    /**
     * One line per epoch on the "io.github.sparkdropout.rounds" logger at INFO (off by default; submit.sh's log
     * configuration turns it on with -Dsparkdropout.rounds=info): where the stage's wall time went, per worker. A
     * worker's wait for a mean is the slower workers' lead (the arrival spread), the driver's mean, and the
     * transport both ways (serialising, the network, Spark's RPC dispatch), which is what is left.
     */
    private void logRounds(WorkerSpec spec, int rounds, int workers, long stageNanos, long stageStartMillis,
                           long stageEndMillis, long driverSerialisingNanos, List<TaskResult> results) {
        if (!ROUNDS.isInfoEnabled()) {
            return;
        }
        long firstStart = Long.MAX_VALUE;
        long lastStart = 0;
        long lastEnd = 0;
        double setup = 0;
        double endTasks = 0;
        double workerSerialising = 0;
        for (TaskResult r : results) {
            workerSerialising += r.timeline().serialisingNanos() / 1e9 / results.size();
            firstStart = Math.min(firstStart, r.timeline().startMillis());
            lastStart = Math.max(lastStart, r.timeline().startMillis());
            lastEnd = Math.max(lastEnd, r.timeline().endMillis());
            setup += r.timeline().setupNanos() / 1e9 / results.size();
            endTasks += r.endNanos() / 1e9 / results.size();
        }
        double busy = spec.stats().workerSeconds() / workers;
        double wait = spec.stats().waitSeconds() / workers;
        double spread;
        double mean;
        synchronized (this) {
            spread = spreadNanos / 1e9;
            mean = meanNanos / 1e9;
        }
        // summed over workers, the spread is waited once (by the earlier ones) and the mean by each
        double transport = wait - spread / workers - mean;
        ROUNDS.info(String.format("stage %.3f s, %d rounds, %d workers; per worker: compute %.3f s (getting ready"
                        + " %.3f), waiting for means %.3f s (slower workers %.3f, driver's mean %.3f, transport %.3f ="
                        + " %.1f ms a round, of which serialising %.1f ms in the worker and %.1f ms in the driver for all"
                        + " workers), outside the rounds %.3f s (tasks started %d-%d ms after the stage was"
                        + " submitted, end tasks %.3f s, the last task's end to the results %d ms)",
                stageNanos / 1e9, rounds, workers, busy, setup, wait, spread / workers, mean, transport,
                1e3 * transport / rounds, 1e3 * workerSerialising / rounds, driverSerialisingNanos / 1e6 / rounds,
                stageNanos / 1e9 - busy - wait, firstStart - stageStartMillis,
                lastStart - stageStartMillis, endTasks, stageEndMillis - lastEnd));
    }

    /**
     * Spark checks a barrier stage's slots only when it submits it; if an executor goes after that check (its loss
     * still in flight), the stage waits for slots forever. So: no round for as long as Spark itself would wait for
     * slots ({@code spark.scheduler.barrier.maxConcurrentTasksCheck.interval} x {@code .maxFailures}) while the
     * cluster has fewer slots than workers, and the stage's job is cancelled: a failed attempt, handled as any other.
     */
    private void cancelIfStarved(JavaSparkContext sc, String jobTag, int workers) {
        Deployment now = Deployment.of(sc.sc()); // executors may have gone or come back since the last look
        if (System.nanoTime() - lastProgress > TimeUnit.MILLISECONDS.toNanos(now.barrierSlotWaitMillis())
                && now.concurrentSlots() < workers) {
            sc.sc().cancelJobsWithTag(jobTag);
        }
    }

    @Override
    public void close() {
        watchdog.shutdownNow();
        endpoint.close();
    }

    /**
     * A task's result: its end task's result (null: no end data in this partition), how long that took, and whether
     * end data went without its end task (no training shard here).
     */
    private record TaskResult(Serializable endResult, long endNanos, boolean endMissed, Timeline timeline)
            implements Serializable {
    }

    /**
     * When a task started and ended (wall clock: comparable with the driver's where they share a clock, as on one
     * machine), how long its worker took to get ready (its replica, the epoch's parameters), and how long it spent
     * (de)serialising endpoint messages: for the rounds log.
     */
    private record Timeline(long startMillis, long setupNanos, long endMillis, long serialisingNanos)
            implements Serializable {
    }

    /**
     * One worker's whole epoch inside the barrier stage. Every task joins every round, even one with no data left
     * (it contributes nothing), or the others would wait for it forever.
     */
    private static final class EpochTask extends AbstractFunction1<scala.collection.Iterator<Object>,
            scala.collection.Iterator<TaskResult>> implements Serializable {
        private static final long serialVersionUID = 1L;
        private final WorkerSpec spec;
        private final long startParamsId;
        private final long endParamsId;
        private final int rounds;
        private final String endpoint;
        private final EpochEndTask endTask;

        /**
         * @param startParamsId the id of the epoch's starting parameters (a replica holding them needs nothing sent)
         * @param endParamsId   the id its replicas will know the final mean by
         */
        EpochTask(WorkerSpec spec, long startParamsId, long endParamsId, int rounds, String endpoint, EpochEndTask endTask) {
            this.spec = spec;
            this.startParamsId = startParamsId;
            this.endParamsId = endParamsId;
            this.rounds = rounds;
            this.endpoint = endpoint;
            this.endTask = endTask;
        }

        @Override
        public scala.collection.Iterator<TaskResult> apply(scala.collection.Iterator<Object> it) {
            // not BarrierTaskContext.get(): its companion object starts a JVM-wide non-daemon Timer thread that
            // nothing stops, so a user's program running the stage in its own JVM (local mode) would never exit
            BarrierTaskContext ctx = (BarrierTaskContext) TaskContext.get();
            int partition = ctx.partitionId();
            long startMillis = System.currentTimeMillis();
            long serialising = SparkInternals.threadSerialisingNanos(); // its asks run in this thread
            long busyStart = System.nanoTime();
            long waited = 0;
            SparkInternals.EndpointClient averaging = SparkInternals.driverEndpoint(endpoint);
            Object input = it.hasNext() ? it.next() : null;
            DataSet shard = input instanceof DataSet[] pair ? pair[0] : (DataSet) input;
            DataSet endData = input instanceof DataSet[] pair ? pair[1] : null;
            ResidentWorker worker = shard == null ? null : new ResidentWorker(spec, partition, shard, startParamsId,
                    () -> averaging.ask(new StartRequest(ctx.stageId(), ctx.stageAttemptNumber(), partition),
                            float[].class, ctx::killTaskIfInterrupted));
            long setupNanos = System.nanoTime() - busyStart;
            INDArray mean = null;
            for (int round = 0; round < rounds; round++) {
                Contribution mine = worker == null ? Contribution.none() : worker.trainRound(round);
                long w0 = System.nanoTime();
                mean = averaging.ask(new AverageRequest(ctx.stageId(), ctx.stageAttemptNumber(), round, partition,
                        ctx.getTaskInfos().length, mine), RoundMean.class, ctx::killTaskIfInterrupted).params();
                waited += System.nanoTime() - w0;
                if (worker != null) {
                    worker.setParams(mean);
                }
            }
            if (worker != null) {
                worker.endsHolding(endParamsId);
            }
            spec.stats().addWorkerNanos(System.nanoTime() - busyStart - waited);
            spec.stats().addWaitNanos(waited);
            Serializable endResult = null;
            long endStart = System.nanoTime();
            if (endTask != null && worker != null && endData != null) {
                endResult = endTask.run(worker.net(), endData); // the replica holds the final mean
            }
            TaskResult out = new TaskResult(endResult, System.nanoTime() - endStart,
                    endTask != null && endData != null && worker == null,
                    new Timeline(startMillis, setupNanos, System.currentTimeMillis(),
                            SparkInternals.threadSerialisingNanos() - serialising));
            return JavaConverters.asScalaIterator(Collections.singletonList(out).iterator());
        }
    }
}
