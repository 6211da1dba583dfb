package io.github.sparkdropout.train.aggregate;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The driver's side of averaging inside one Spark barrier stage: each worker contributes after every round; once
 * all workers of the round have, the mean goes back to each of them. Plain Java (the Spark endpoint that carries
 * the messages is a thin adapter), driven one message at a time.
 *
 * <p>A stage attempt is identified by (stage id, attempt number). Contributions of a newer attempt (a new epoch, or
 * the retry of a failed one) supersede the older attempt's pending rounds, whose waiting workers are released with
 * a failure; a straggler of a superseded attempt is refused and never resets the state.
 */
public final class RoundCollector {
    /** The way back to the worker that contributed. */
    public interface Caller {
        /**
         * The round's mean (null: no worker trained in this round): the collector's buffer, overwritten by the next
         * round's mean, which cannot come before every worker of this round has taken this one in.
         */
        void send(INDArray mean);

        void fail(String why);
    }

    /** Told when a round's mean is out, before the workers get it: which round, how many examples it trained. */
    public interface RoundDone {
        void averaged(int round, long examples);
    }

    private final RoundDone done;
    private final ParameterAveraging averaging = new ParameterAveraging();
    private final Map<Integer, Round> rounds = new HashMap<>();
    private long stage = -1;

    /** Contributions to one round, by partition. */
    private static final class Round {
        final Contribution[] contributions;
        final Caller[] callers;
        int arrived;

        Round(int partitions) {
            contributions = new Contribution[partitions];
            callers = new Caller[partitions];
        }
    }

    public RoundCollector(RoundDone done) {
        this.done = done;
    }

    public synchronized void contribute(int stageId, int stageAttempt, int round, int partition, int partitions,
                                        Contribution contribution, Caller caller) {
        long stageKey = ((long) stageId << 32) | stageAttempt;
        if (stageKey < stage) {
            caller.fail("averaging request of superseded stage " + stageId + "." + stageAttempt);
            return;
        }
        if (stageKey != stage) {
            for (Round r : rounds.values()) {
                for (Caller c : r.callers) {
                    if (c != null) {
                        c.fail("averaging round superseded by stage " + stageId + "." + stageAttempt);
                    }
                }
            }
            rounds.clear();
            stage = stageKey;
        }
        Round r = rounds.computeIfAbsent(round, k -> new Round(partitions));
        if (r.callers[partition] != null) {
            caller.fail("partition " + partition + " contributed twice to round " + round);
            return;
        }
        r.contributions[partition] = contribution;
        r.callers[partition] = caller;
        if (++r.arrived < partitions) {
            return;
        }
        rounds.remove(round);
        INDArray mean = averaging.mean(Arrays.asList(r.contributions));
        // before the replies: the stage cannot end (and the epoch's line be printed) before its last round's report
        done.averaged(round, ParameterAveraging.examples(Arrays.asList(r.contributions)));
        for (Caller c : r.callers) {
            c.send(mean);
        }
    }
}
