package io.github.sparkdropout.train;

import org.apache.spark.rpc.RpcAddress;
import org.apache.spark.rpc.RpcCallContext;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The driver side of barrier-mode averaging, driven directly with fake callers (no Spark). */
class AveragingEndpointTest {
    /** Records what the endpoint answered. */
    private static final class Caller implements RpcCallContext {
        Object reply;
        Throwable failure;

        @Override
        public void reply(Object response) {
            reply = response;
        }

        @Override
        public void sendFailure(Throwable e) {
            failure = e;
        }

        @Override
        public RpcAddress senderAddress() {
            return null;
        }
    }

    private static Object[] message(int stage, int attempt, int round, int partition, int steps, int examples,
                                    float... params) {
        return new Object[]{new int[]{stage, attempt, round, partition, 2, steps, examples},
                steps == 0 ? null : params};
    }

    @Test
    void repliesTheMeanToEveryWorkerOnceAllHaveArrivedAndReportsTheRound() {
        List<long[]> reported = new ArrayList<>();
        AveragingEndpoint endpoint = new AveragingEndpoint(null, (round, ex) -> reported.add(new long[]{round, ex}));
        Caller a = new Caller();
        Caller b = new Caller();
        endpoint.receiveAndReply(a).apply(message(5, 0, 0, 1, 2, 64, 1f, 4f));
        assertNull(a.reply, "no reply before every worker arrived");
        endpoint.receiveAndReply(b).apply(message(5, 0, 0, 0, 2, 64, 3f, 0f));
        assertArrayEquals(new float[]{2f, 2f}, (float[]) a.reply);
        assertArrayEquals(new float[]{2f, 2f}, (float[]) b.reply);
        assertEquals(1, reported.size());
        assertArrayEquals(new long[]{0, 128}, reported.get(0));

        // a worker without data this round is left out of the mean
        Caller c = new Caller();
        Caller d = new Caller();
        endpoint.receiveAndReply(c).apply(message(5, 0, 1, 0, 1, 32, 6f, 8f));
        endpoint.receiveAndReply(d).apply(message(5, 0, 1, 1, 0, 0));
        assertArrayEquals(new float[]{6f, 8f}, (float[]) d.reply);
    }

    @Test
    void aRetriedStageFailsTheOldAttemptsRoundsAndIgnoresItsStragglers() {
        AveragingEndpoint endpoint = new AveragingEndpoint(null, (round, ex) -> { });
        Caller old = new Caller();
        endpoint.receiveAndReply(old).apply(message(7, 0, 3, 0, 1, 8, 1f));
        Caller retry0 = new Caller();
        endpoint.receiveAndReply(retry0).apply(message(7, 1, 0, 0, 1, 8, 1f));
        assertNotNull(old.failure, "the superseded attempt's waiting worker is released with a failure");
        Caller straggler = new Caller();
        endpoint.receiveAndReply(straggler).apply(message(7, 0, 3, 1, 1, 8, 5f));
        assertNotNull(straggler.failure);
        Caller retry1 = new Caller();
        endpoint.receiveAndReply(retry1).apply(message(7, 1, 0, 1, 1, 8, 3f));
        assertArrayEquals(new float[]{2f}, (float[]) retry0.reply, "the new attempt's round still completes");
        assertArrayEquals(new float[]{2f}, (float[]) retry1.reply);
    }
}
