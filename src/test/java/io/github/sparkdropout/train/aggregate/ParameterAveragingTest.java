package io.github.sparkdropout.train.aggregate;

import io.github.sparkdropout.KernelSensitive;
import io.github.sparkdropout.model.ParamVectors;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** DL4J's averaging: the plain mean of the workers that trained. */
@KernelSensitive
class ParameterAveragingTest {
    private static float[] mean(ParameterAveraging averaging, List<Contribution> c) {
        INDArray m = averaging.mean(c);
        return m == null ? null : ParamVectors.toFloats(m);
    }

    @Test
    void theMeanOfTheWorkersThatTrained() {
        List<Contribution> c = List.of(Contribution.of(new float[]{1f, 2f}, 3, 30),
                Contribution.of(new float[]{3f, 6f}, 1, 10), Contribution.none());
        assertArrayEquals(new float[]{2f, 4f}, mean(new ParameterAveraging(), c));
        assertEquals(40, ParameterAveraging.examples(c));
    }

    @Test
    void oneWorkerIsItsOwnMeanAndNoneIsNull() {
        float[] p = {0.1f, 0.3f};
        assertArrayEquals(p, mean(new ParameterAveraging(), List.of(Contribution.of(p, 1, 1))));
        assertNull(new ParameterAveraging().mean(List.of(Contribution.none(), Contribution.none())));
    }

    @Test
    void theInputsAreNotModifiedAndTheOrderIsTheSumsOrder() {
        float[] a = {1e8f, 1f};
        Contribution ca = Contribution.of(a, 1, 1);
        float[] m = mean(new ParameterAveraging(), List.of(ca, Contribution.of(new float[]{-1e8f, 1f}, 1, 1),
                Contribution.of(new float[]{1f, 1f}, 1, 1)));
        assertArrayEquals(a, ParamVectors.toFloats(ca.params()), "inputs untouched");
        // (1e8 + -1e8) + 1 = 1 in partition order; other orders round 1e8 + 1 away
        assertEquals(1f / 3, m[0], 1e-7);
    }

    /** The native sum and scale give exactly the float arithmetic of a plain loop (what the transports promise). */
    @Test
    void bitForBitThePlainFloatLoopAndTheBufferIsReused() {
        Random random = new Random(7);
        ParameterAveraging averaging = new ParameterAveraging();
        INDArray first = null;
        for (int workers = 1; workers <= 5; workers++) {
            float[][] p = new float[workers][269_322];
            for (float[] v : p) {
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) random.nextGaussian() * (i % 3 == 0 ? 1e-3f : 0.7f);
                }
            }
            float[] expected = p[0].clone();
            for (int w = 1; w < workers; w++) {
                for (int i = 0; i < expected.length; i++) {
                    expected[i] += p[w][i];
                }
            }
            if (workers > 1) {
                float inv = 1.0f / workers;
                for (int i = 0; i < expected.length; i++) {
                    expected[i] *= inv;
                }
            }
            List<Contribution> c = new java.util.ArrayList<>();
            for (float[] v : p) {
                c.add(Contribution.of(v, 1, 1));
            }
            INDArray m = averaging.mean(c);
            float[] got = ParamVectors.toFloats(m);
            for (int i = 0; i < expected.length; i++) {
                if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(got[i])) {
                    throw new AssertionError(workers + " workers, value " + i + ": " + got[i] + " instead of "
                            + expected[i]);
                }
            }
            if (first == null) {
                first = m;
            }
            assertSame(first, m, "one buffer, reused round after round");
        }
    }

    @Test
    void vectorsOfDifferentLengthsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new ParameterAveraging().mean(List.of(
                Contribution.of(new float[2], 1, 1), Contribution.of(new float[3], 1, 1))));
    }

    @Test
    void aContributionCrossesTheWireAsACopyOfItsValues() throws Exception {
        float[] v = {1.5f, -0.0f, Float.NaN};
        Contribution sent = Contribution.of(v, 2, 17);
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
            out.writeObject(sent);
            out.writeObject(Contribution.none());
        }
        try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(
                new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
            Contribution back = (Contribution) in.readObject();
            assertEquals(2, back.steps());
            assertEquals(17, back.examples());
            float[] got = ParamVectors.toFloats(back.params());
            for (int i = 0; i < v.length; i++) {
                assertEquals(Float.floatToRawIntBits(v[i]), Float.floatToRawIntBits(got[i]));
            }
            Contribution none = (Contribution) in.readObject();
            assertNull(none.params());
            assertEquals(false, none.trained());
        }
    }
}
