package io.github.sparkdropout.model;

import io.github.sparkdropout.KernelSensitive;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.RectifiedLinear;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The direct libnd4j calls must take the direct path on the CPU backend and give exactly ND4J's own results. */
@KernelSensitive
class HostOpsTest {
    /** The step's shape, values either side of 0 and of the dropout probability, a few exact zeros. */
    private static INDArray activations(long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray a = Nd4j.rand(DataType.FLOAT, 128, 256).subi(0.5).muli(3);
        a.putScalar(0, 0, 0f);
        a.putScalar(1, 1, -0f);
        a.putScalar(2, 2, 0.5f);
        return a;
    }

    private static void sameBits(INDArray want, INDArray got) {
        float[] w = want.dup('c').data().asFloat();
        float[] g = got.dup('c').data().asFloat();
        assertEquals(w.length, g.length);
        for (int i = 0; i < w.length; i++) {
            assertEquals(Float.floatToRawIntBits(w[i]), Float.floatToRawIntBits(g[i]), "value " + i);
        }
    }

    @Test
    void multiplyIsNd4jsProduct() {
        INDArray x = activations(1);
        INDArray y = activations(2);
        INDArray want = x.ulike();
        Nd4j.exec(new MulOp(x, y, want));
        INDArray got = x.ulike();
        assertTrue(HostOps.direct(x, y, got), "the CPU backend's direct path");
        HostOps.multiply(x, y, got);
        sameBits(want, got);
        INDArray inPlace = x.dup();
        HostOps.multiply(inPlace, y, inPlace);
        sameBits(want, inPlace);
    }

    @Test
    void scalarOpsAreNd4jsOps() {
        INDArray x = activations(3);
        HostOps.Scalar relu = HostOps.relu();
        HostOps.Scalar step = HostOps.step(0.5);
        HostOps.Scalar times = HostOps.times(1.0 / (1.0 - 0.2));
        INDArray got = x.ulike();
        assertTrue(relu.direct(x, got) && step.direct(x, got) && times.direct(x, got), "the direct path");

        INDArray want = x.ulike();
        Nd4j.exec(new RectifiedLinear(x, want));
        relu.apply(x, got);
        sameBits(want, got);

        Nd4j.exec(new Step(x, want, 0.5));
        step.apply(x, got);
        sameBits(want, got);

        want = x.mul(1.0 / (1.0 - 0.2));
        INDArray inPlace = x.dup();
        times.apply(inPlace, inPlace);
        sameBits(want, inPlace);
    }

    @Test
    void otherArraysGoThroughNd4jWithTheSameResults() {
        INDArray whole = activations(4);
        INDArray view = whole.get(NDArrayIndex.interval(3, 40), NDArrayIndex.all());
        INDArray y = activations(5).get(NDArrayIndex.interval(0, 37), NDArrayIndex.all()).dup();
        INDArray got = y.ulike();
        assertFalse(HostOps.direct(view, y, got));
        HostOps.multiply(view, y, got);
        sameBits(view.mul(y), got);

        INDArray fOrder = activations(6).dup('f'); // another layout than the checked one: ND4J's op
        INDArray cOrder = activations(7);
        INDArray mixed = cOrder.ulike();
        assertFalse(HostOps.direct(fOrder, cOrder, mixed));
        HostOps.multiply(fOrder, cOrder, mixed);
        sameBits(fOrder.mul(cOrder), mixed);

        INDArray doubles = view.castTo(DataType.DOUBLE);
        INDArray positive = doubles.ulike();
        HostOps.Scalar step = HostOps.step(0.0);
        assertFalse(step.direct(doubles, positive));
        step.apply(doubles, positive);
        sameBits(Nd4j.exec(new Step(doubles, doubles.ulike(), 0.0)).castTo(DataType.FLOAT),
                positive.castTo(DataType.FLOAT));
    }
}
