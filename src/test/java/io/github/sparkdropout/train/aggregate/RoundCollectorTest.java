package io.github.sparkdropout.train.aggregate;

import io.github.sparkdropout.model.ParamVectors;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The driver side of barrier-mode averaging, driven directly with fake callers (no Spark). */
class RoundCollectorTest {
    /** Records what the collector answered. */
    private static final class Caller implements RoundCollector.Caller {
        float[] mean;
        boolean answered;
        String failure;

        @Override
        public void send(INDArray mean) {
            this.mean = mean == null ? null : ParamVectors.toFloats(mean);
            answered = true;
        }

        @Override
        public void fail(String why) {
            failure = why;
        }
    }

    private static Contribution trained(int examples, float... params) {
        return Contribution.of(params, 1, examples);
    }

    @Test
    void repliesTheMeanToEveryWorkerOnceAllHaveArrivedAndReportsTheRound() {
        List<long[]> reported = new ArrayList<>();
        RoundCollector collector = new RoundCollector((round, ex) -> reported.add(new long[]{round, ex}));
        Caller a = new Caller();
        Caller b = new Caller();
        collector.contribute(5, 0, 0, 1, 2, trained(64, 1f, 4f), a);
        assertNull(a.mean, "no reply before every worker arrived");
        collector.contribute(5, 0, 0, 0, 2, trained(64, 3f, 0f), b);
        assertArrayEquals(new float[]{2f, 2f}, a.mean);
        assertArrayEquals(new float[]{2f, 2f}, b.mean);
        assertEquals(1, reported.size());
        assertArrayEquals(new long[]{0, 128}, reported.get(0));

        // a worker without data this round is left out of the mean
        Caller c = new Caller();
        Caller d = new Caller();
        collector.contribute(5, 0, 1, 0, 2, trained(32, 6f, 8f), c);
        collector.contribute(5, 0, 1, 1, 2, Contribution.none(), d);
        assertArrayEquals(new float[]{6f, 8f}, d.mean);

        // nobody trained: every worker hears so (null) and keeps its parameters
        Caller e = new Caller();
        collector.contribute(5, 0, 2, 0, 1, Contribution.none(), e);
        assertTrue(e.answered);
        assertNull(e.mean);
    }

    @Test
    void aRetriedStageFailsTheOldAttemptsRoundsAndIgnoresItsStragglers() {
        RoundCollector collector = new RoundCollector((round, ex) -> { });
        Caller old = new Caller();
        collector.contribute(7, 0, 3, 0, 2, trained(8, 1f), old);
        Caller retry0 = new Caller();
        collector.contribute(7, 1, 0, 0, 2, trained(8, 1f), retry0);
        assertNotNull(old.failure, "the superseded attempt's waiting worker is released with a failure");
        Caller straggler = new Caller();
        collector.contribute(7, 0, 3, 1, 2, trained(8, 5f), straggler);
        assertNotNull(straggler.failure);
        Caller retry1 = new Caller();
        collector.contribute(7, 1, 0, 1, 2, trained(8, 3f), retry1);
        assertArrayEquals(new float[]{2f}, retry0.mean, "the new attempt's round still completes");
        assertArrayEquals(new float[]{2f}, retry1.mean);
    }

    @Test
    void aDuplicateContributionIsRefused() {
        RoundCollector collector = new RoundCollector((round, ex) -> { });
        collector.contribute(1, 0, 0, 0, 2, trained(8, 1f), new Caller());
        Caller twice = new Caller();
        collector.contribute(1, 0, 0, 0, 2, trained(8, 1f), twice);
        assertNotNull(twice.failure);
    }
}
