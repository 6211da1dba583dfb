package io.github.sparkdropout.eval;

import io.github.sparkdropout.KernelSensitive;
import org.junit.jupiter.api.Test;
import org.nd4j.evaluation.classification.Evaluation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

@KernelSensitive
class TestEvaluationTest {
    @Test
    void perClassMetricsMatchAHandComputedConfusionMatrix() {
        // (label, prediction): class 3 is predicted once but never the true label.
        int[][] pairs = {{0, 0}, {0, 0}, {0, 1}, {1, 1}, {1, 1}, {1, 0}, {2, 2}, {2, 1}, {2, 3}};
        Evaluation first = new Evaluation(4);
        Evaluation second = new Evaluation(4);
        for (int i = 0; i < pairs.length; i++) { // split over two "partitions", merged as the executors' are
            (i % 2 == 0 ? first : second).eval(pairs[i][1], pairs[i][0]);
        }
        first.merge(second);
        EvalResult r = TestEvaluation.fromEvaluation(first, 4);
        assertArrayEquals(new long[]{2, 1, 0, 0}, r.confusion()[0]);
        assertArrayEquals(new long[]{1, 2, 0, 0}, r.confusion()[1]);
        assertArrayEquals(new long[]{0, 1, 1, 1}, r.confusion()[2]);
        assertArrayEquals(new long[]{0, 0, 0, 0}, r.confusion()[3]);
        assertEquals(5.0 / 9, r.accuracy(), 1e-12);
        assertEquals(9, r.examples());
        assertArrayEquals(new long[]{3, 3, 3, 0}, r.support());
        assertArrayEquals(new double[]{2.0 / 3, 0.5, 1.0, 0.0}, r.precision(), 1e-12);
        assertArrayEquals(new double[]{2.0 / 3, 2.0 / 3, 1.0 / 3, 0.0}, r.recall(), 1e-12);
        double f1c1 = 2 * 0.5 * (2.0 / 3) / (0.5 + 2.0 / 3);
        assertArrayEquals(new double[]{2.0 / 3, f1c1, 0.5, 0.0}, r.f1(), 1e-12);
    }
}
