package io.github.sparkdropout.train;

import org.apache.spark.BarrierTaskContext;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkException;
import org.apache.spark.rpc.RpcCallContext;
import org.apache.spark.rpc.RpcEndpointRef;
import org.apache.spark.rpc.RpcEnv;
import org.apache.spark.rpc.RpcTimeout;
import org.apache.spark.rpc.ThreadSafeRpcEndpoint;
import org.apache.spark.util.RpcUtils;
import scala.PartialFunction;
import scala.PartialFunction$;
import scala.concurrent.Await;
import scala.concurrent.Future;
import scala.concurrent.duration.FiniteDuration;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;
import scala.runtime.BoxedUnit;
import scala.util.Try;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Parameter averaging for the workers of a barrier stage, served by the driver over Spark's own RPC (the
 * endpoint lives in the driver's {@code RpcEnv}, beside Spark's {@code BarrierCoordinator}: same port, same
 * authentication and encryption, no extra listener to open). After each averaging period every worker sends
 * its parameters; once all have arrived the driver averages them in partition order, exactly as the
 * one-job-per-round path does ({@link ResidentAveragingTrainingMaster#average}), and replies the mean to each.
 *
 * <p>Why not {@code BarrierTaskContext.allGather}: in Spark 3.5 every allGather/barrier call polls for its reply
 * with {@code Thread.sleep(1000)}, so each round would cost a second (measured: 12.8 s epochs instead of 1-2 s).
 * Here a worker waits on the reply future itself, waking every 100 ms only to notice a killed task.
 *
 * <p>Uses Spark's internal RPC classes ({@code private[spark]} in Scala, public in bytecode); they have been
 * stable since Spark 2.0 and the build pins Spark 3.5.9. {@code --averaging-sync jobs} avoids them.
 */
final class AveragingEndpoint implements ThreadSafeRpcEndpoint {
    private static final FiniteDuration NO_TIMEOUT = new FiniteDuration(365, TimeUnit.DAYS);
    private static final FiniteDuration KILL_CHECK = new FiniteDuration(100, TimeUnit.MILLISECONDS);

    /** Told on the driver when a round's mean is out: which round, and how many examples the workers trained. */
    interface RoundCallback {
        void averaged(int round, long examples);
    }

    private final RpcEnv env;
    private final RoundCallback callback;
    private final Map<Integer, Round> rounds = new HashMap<>();
    private long stage = -1; // (stage id, attempt) being served; a newer attempt supersedes pending rounds

    /** Contributions to one round, by partition. */
    private static final class Round {
        final ResidentAveragingTrainingMaster.RoundResult[] results;
        final RpcCallContext[] callers;
        int arrived;

        Round(int partitions) {
            results = new ResidentAveragingTrainingMaster.RoundResult[partitions];
            callers = new RpcCallContext[partitions];
        }
    }

    AveragingEndpoint(RpcEnv env, RoundCallback callback) {
        this.env = env;
        this.callback = callback;
    }

    /** Registers an endpoint named {@code name} in this (driver) JVM's RpcEnv. */
    static RpcEndpointRef register(String name, RoundCallback callback) {
        RpcEnv env = SparkEnv.get().rpcEnv();
        return env.setupEndpoint(name, new AveragingEndpoint(env, callback));
    }

    static void unregister(RpcEndpointRef ref) {
        SparkEnv.get().rpcEnv().stop(ref);
    }

    @Override
    public RpcEnv rpcEnv() {
        return env;
    }

    @Override
    public PartialFunction<Object, BoxedUnit> receiveAndReply(RpcCallContext context) {
        return PartialFunction$.MODULE$.apply(new AbstractFunction1<Object, BoxedUnit>() {
            @Override
            public BoxedUnit apply(Object message) {
                contribute(context, (Object[]) message);
                return BoxedUnit.UNIT;
            }
        });
    }

    /** Message: {int[]{stageId, stageAttempt, round, partition, partitions, steps, examples}, float[] params}. */
    private void contribute(RpcCallContext caller, Object[] message) {
        int[] h = (int[]) message[0];
        long stageKey = ((long) h[0] << 32) | h[1];
        if (stageKey < stage) { // a straggler of a stage (attempt) already superseded: it must not reset the state
            caller.sendFailure(new SparkException("averaging request of superseded stage " + h[0] + "." + h[1]));
            return;
        }
        if (stageKey != stage) { // a new epoch's stage, or a retry of a failed one: older rounds will never finish
            for (Round r : rounds.values()) {
                for (RpcCallContext c : r.callers) {
                    if (c != null) {
                        c.sendFailure(new SparkException("averaging round superseded by stage " + h[0] + "." + h[1]));
                    }
                }
            }
            rounds.clear();
            stage = stageKey;
        }
        int partitions = h[4];
        Round round = rounds.computeIfAbsent(h[2], k -> new Round(partitions));
        round.results[h[3]] = new ResidentAveragingTrainingMaster.RoundResult((float[]) message[1], h[5], h[6]);
        round.callers[h[3]] = caller;
        if (++round.arrived < partitions) {
            return;
        }
        rounds.remove(h[2]);
        float[] mean = ResidentAveragingTrainingMaster.average(Arrays.asList(round.results));
        long examples = 0;
        for (ResidentAveragingTrainingMaster.RoundResult r : round.results) {
            examples += r.examples;
        }
        // before the replies: the stage cannot end (and the epoch's line be printed) before its last round's report
        try {
            callback.averaged(h[2], examples);
        } catch (RuntimeException e) { // progress reporting must never leave the workers without their mean
            System.err.println("warning: progress report failed: " + e);
        }
        for (RpcCallContext c : round.callers) {
            c.reply(mean == null ? new float[0] : mean);
        }
    }

    /** A worker's side: one connection to the driver's endpoint for the duration of a task. */
    static final class Client {
        private final RpcEndpointRef ref;
        private final BarrierTaskContext ctx;

        Client(String name, BarrierTaskContext ctx) {
            this.ctx = ctx;
            this.ref = RpcUtils.makeDriverRef(name, SparkEnv.get().conf(), SparkEnv.get().rpcEnv());
        }

        /** Sends this worker's round result and returns the mean over all workers (null: no one trained). */
        float[] average(int round, ResidentAveragingTrainingMaster.RoundResult mine) {
            int[] header = {ctx.stageId(), ctx.stageAttemptNumber(), round, ctx.partitionId(),
                    ctx.getTaskInfos().length, mine.steps, (int) mine.examples};
            Future<float[]> reply = ref.ask(new Object[]{header, mine.steps == 0 ? null : mine.params},
                    new RpcTimeout(NO_TIMEOUT, "sparkdropout.averaging"), ClassTag$.MODULE$.apply(float[].class));
            while (!reply.isCompleted()) {
                try {
                    Await.ready(reply, KILL_CHECK);
                } catch (Exception e) { // timed out waiting or interrupted: was the task killed meanwhile?
                    if (!(e instanceof java.util.concurrent.TimeoutException || e instanceof InterruptedException)) {
                        throw new IllegalStateException(e);
                    }
                }
                ctx.killTaskIfInterrupted();
            }
            Try<float[]> result = reply.value().get();
            if (result.isFailure()) {
                throw new IllegalStateException("parameter averaging failed on the driver", result.failed().get());
            }
            float[] mean = result.get();
            return mean.length == 0 ? null : mean;
        }
    }
}
