package io.github.sparkdropout.model;

import io.github.sparkdropout.KernelSensitive;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.dropout.IDropout;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Dropout semantics of both implementations the job uses: ours ({@link InvertedDropout}, drop probability p) and
 * DL4J's ({@link Dropout}, retain probability 1 - p).
 *
 * <p>Statistical bounds: with N independent elements each dropped with probability p, the dropped count is
 * Binomial(N, p) with standard deviation sqrt(N p (1 - p)); for an all-ones input the output mean is
 * kept/N / (1 - p), whose standard deviation is sqrt(p (1 - p) / N) / (1 - p). We allow 6 standard deviations:
 * a correct implementation fails with probability about 2e-9, while a wrong p, a missing 1/(1-p) scaling or
 * a retain/drop mix-up (0.8 vs 0.2) misses by hundreds of standard deviations at N = 10^6.
 */
@KernelSensitive
class DropoutSemanticsTest {
    private static final int N = 1_000_000;
    private static final double SIGMAS = 6.0;

    static IDropout make(String impl, double p) {
        return impl.equals("ours") ? new InvertedDropout(p) : new Dropout(1.0 - p);
    }

    static Stream<Arguments> cases() {
        return Stream.of(Arguments.of("ours", 0.2), Arguments.of("ours", 0.5), Arguments.of("ours", 0.9),
                Arguments.of("dl4j", 0.2), Arguments.of("dl4j", 0.5), Arguments.of("dl4j", 0.9));
    }

    private static INDArray apply(IDropout d, INDArray x) {
        return d.applyDropout(x, x.ulike(), 0, 0, LayerWorkspaceMgr.noWorkspaces());
    }

    @ParameterizedTest(name = "{0} p={1}")
    @MethodSource("cases")
    void keptValuesAreScaledDroppedFractionIsPAndTheMeanIsKept(String impl, double p) {
        Nd4j.getRandom().setSeed(12345);
        INDArray x = Nd4j.ones(DataType.FLOAT, N);
        float[] y = apply(make(impl, p), x).toFloatVector();
        float kept = (float) (1.0 / (1.0 - p));
        long dropped = 0;
        double sum = 0;
        for (float v : y) {
            if (v == 0f) {
                dropped++;
            } else {
                assertEquals(kept, v, 1e-6f * kept, "every kept value is x / (1 - p)");
            }
            sum += v;
        }
        double sdFraction = Math.sqrt(p * (1 - p) / N);
        assertEquals(p, (double) dropped / N, SIGMAS * sdFraction, "dropped fraction");
        assertEquals(1.0, sum / N, SIGMAS * sdFraction / (1 - p), "E[dropout(x)] = x");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void keptValuesFollowTheInput(String impl, double p) {
        Nd4j.getRandom().setSeed(7);
        INDArray x = Nd4j.rand(DataType.FLOAT, 64, 64).subi(0.5);
        INDArray y = apply(make(impl, p), x);
        float[] xs = x.ravel().toFloatVector();
        float[] ys = y.ravel().toFloatVector();
        for (int i = 0; i < xs.length; i++) {
            assertTrue(ys[i] == 0f || Math.abs(ys[i] - xs[i] / (1 - p)) <= 1e-5, "0 or x/(1-p) at " + i);
        }
    }

    @Test
    void zeroIsTheIdentityAndOneGivesZeros() {
        INDArray x = Nd4j.arange(16).castTo(DataType.FLOAT).reshape(2, 8);
        assertEquals(x, apply(new InvertedDropout(0.0), x));
        assertEquals(x, apply(new Dropout(1.0), x), "DL4J: retain probability 1 = identity");
        assertEquals(Nd4j.zeros(DataType.FLOAT, 2, 8), apply(new InvertedDropout(1.0), x));
        assertThrows(IllegalArgumentException.class, () -> new Dropout(0.0),
                "DL4J cannot drop everything: the concise variant refuses p = 1 up front");
    }

    @Test
    void ourDropoutRejectsProbabilitiesOutsideZeroOne() {
        assertThrows(IllegalArgumentException.class, () -> new InvertedDropout(1.5));
        assertThrows(IllegalArgumentException.class, () -> new InvertedDropout(-0.1));
        assertThrows(IllegalArgumentException.class, () -> new InvertedDropout(Double.NaN));
    }

    @Test
    void halfDropoutOfArangeGivesZerosOrDoubles() {
        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.arange(16).castTo(DataType.FLOAT).reshape(2, 8);
        float[] y = InvertedDropout.apply(x, 0.5).ravel().toFloatVector();
        for (int i = 0; i < 16; i++) {
            assertTrue(y[i] == 0f || y[i] == 2f * i, "0 or 2x at " + i + ": " + y[i]);
        }
    }

    @Test
    void backpropUsesTheForwardMask() {
        Nd4j.getRandom().setSeed(5);
        InvertedDropout d = new InvertedDropout(0.5);
        INDArray x = Nd4j.ones(DataType.FLOAT, 1000);
        float[] y = apply(d, x).toFloatVector();
        float[] g = d.backprop(Nd4j.ones(DataType.FLOAT, 1000), Nd4j.zeros(DataType.FLOAT, 1000), 0, 0)
                .toFloatVector();
        assertArrayEquals(y, g, "d(x*m)/dx = m");
    }

    @Test
    void masksDifferBetweenStepsAndBetweenSeeds() {
        INDArray x = Nd4j.ones(DataType.FLOAT, 4096);
        InvertedDropout d = new InvertedDropout(0.5);
        Nd4j.getRandom().setSeed(11);
        INDArray a = apply(d, x);
        INDArray b = apply(d, x);
        Nd4j.getRandom().setSeed(12);
        INDArray c = apply(d, x);
        Nd4j.getRandom().setSeed(11);
        INDArray again = apply(d, x);
        assertFalse(a.equals(b), "the next step draws a new mask");
        assertFalse(a.equals(c), "another seed (another worker or round) draws another mask");
        assertEquals(a, again, "same seed, same mask: reruns are reproducible");
    }
}
