package io.github.sparkdropout.train.aggregate;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** DL4J's averaging as a pure function: the plain mean of the workers that trained. */
class ParameterAveragingTest {
    @Test
    void theMeanOfTheWorkersThatTrained() {
        List<Contribution> c = List.of(new Contribution(new float[]{1f, 2f}, 3, 30),
                new Contribution(new float[]{3f, 6f}, 1, 10), Contribution.none());
        assertArrayEquals(new float[]{2f, 4f}, ParameterAveraging.mean(c));
        assertEquals(40, ParameterAveraging.examples(c));
    }

    @Test
    void oneWorkerIsItsOwnMeanAndNoneIsNull() {
        float[] p = {0.1f, 0.3f};
        assertArrayEquals(p, ParameterAveraging.mean(List.of(new Contribution(p, 1, 1))));
        assertNull(ParameterAveraging.mean(List.of(Contribution.none(), Contribution.none())));
    }

    @Test
    void theInputsAreNotModifiedAndTheOrderIsTheSumsOrder() {
        float[] a = {1e8f, 1f};
        float[] b = {-1e8f, 1f};
        float[] c = {1f, 1f};
        float[] m = ParameterAveraging.mean(List.of(new Contribution(a, 1, 1), new Contribution(b, 1, 1),
                new Contribution(c, 1, 1)));
        assertArrayEquals(new float[]{1e8f, 1f}, a, "inputs untouched");
        // (1e8 + -1e8) + 1 = 1 in partition order; other orders round 1e8 + 1 away
        assertEquals(1f / 3, m[0], 1e-7);
    }

    @Test
    void vectorsOfDifferentLengthsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> ParameterAveraging.mean(List.of(
                new Contribution(new float[2], 1, 1), new Contribution(new float[3], 1, 1))));
    }
}
