package io.github.sparkdropout.model;

import io.github.sparkdropout.KernelSensitive;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The direct BLAS calls must give exactly ND4J's own results, whatever the layouts they are handed. */
@KernelSensitive
class HostBlasTest {
    private static INDArray random(char order, long rows, long cols, long seed) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.rand(DataType.FLOAT, rows, cols).dup(order);
    }

    /** Both ways from the same inputs and the same starting C: the same bits. */
    private static void same(INDArray a, INDArray b, INDArray c, boolean ta, boolean tb, double alpha, double beta) {
        INDArray expected = c.dup(c.ordering());
        INDArray got = c.dup(c.ordering());
        Nd4j.gemm(a, b, expected, ta, tb, alpha, beta);
        HostBlas.gemm(a, b, got, ta, tb, alpha, beta);
        assertEquals(expected, got, a.ordering() + "" + b.ordering() + c.ordering() + " ta=" + ta + " tb=" + tb);
        float[] e = expected.dup('c').data().asFloat();
        float[] g = got.dup('c').data().asFloat();
        for (int i = 0; i < e.length; i++) {
            assertEquals(Float.floatToRawIntBits(e[i]), Float.floatToRawIntBits(g[i]), "value " + i);
        }
    }

    @Test
    void everyOrderAndTransposeGivesNd4jsBits() {
        long m = 37;
        long n = 23;
        long k = 51;
        for (char oa : new char[]{'c', 'f'}) {
            for (char ob : new char[]{'c', 'f'}) {
                for (char oc : new char[]{'c', 'f'}) {
                    for (boolean ta : new boolean[]{false, true}) {
                        for (boolean tb : new boolean[]{false, true}) {
                            INDArray a = ta ? random(oa, k, m, 1) : random(oa, m, k, 1);
                            INDArray b = tb ? random(ob, n, k, 2) : random(ob, k, n, 2);
                            same(a, b, random(oc, m, n, 3), ta, tb, 1.0, 0.0);
                            same(a, b, random(oc, m, n, 3), ta, tb, -0.5, 1.0);
                        }
                    }
                }
            }
        }
    }

    /**
     * A dimension of 1 leaves a matrix both row- and column-major; ND4J (libnd4j's MmulHelper) then makes a call of its
     * own form (e.g. one row times W as a column-major 1 x K with lda 1), and some kernel sets (Prescott's) round
     * another form of the same product differently. One row is what scoring a single example multiplies.
     */
    @Test
    void oneRowOneColumnAndRankOneProductsGiveNd4jsBits() {
        long[][] mnk = {{1, 10, 256}, {1, 256, 784}, {1, 10, 37}, {37, 1, 51}, {300, 10, 1}, {1, 1, 64}, {5, 10, 1}};
        for (long[] d : mnk) {
            for (char oa : new char[]{'c', 'f'}) {
                for (char ob : new char[]{'c', 'f'}) {
                    for (char oc : new char[]{'c', 'f'}) {
                        for (boolean ta : new boolean[]{false, true}) {
                            for (boolean tb : new boolean[]{false, true}) {
                                INDArray a = ta ? random(oa, d[2], d[0], 31) : random(oa, d[0], d[2], 31);
                                INDArray b = tb ? random(ob, d[1], d[2], 32) : random(ob, d[2], d[1], 32);
                                same(a, b, random(oc, d[0], d[1], 33), ta, tb, 1.0, 0.0);
                                same(a, b, random(oc, d[0], d[1], 33), ta, tb, -0.5, 1.0);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void theStepsShapesOnTheNetworksOwnParameterViews() {
        MultiLayerNetwork net = DropoutMlp.create(Variant.CONCISE, 0.5, MlpShape.book(0.2, 0.5), 4);
        INDArray w2 = net.getLayer(1).getParam("W"); // 'f' views at an offset into the parameter vector
        INDArray b2 = net.getLayer(1).getParam("b");
        INDArray b2row = b2.rank() == 2 ? b2 : b2.reshape(1, b2.length());
        INDArray ones = Nd4j.ones(DataType.FLOAT, 1, 128);
        INDArray h = random('c', 128, 256, 5);
        INDArray dz = random('c', 128, 256, 6);
        same(h, w2, random('c', 128, 256, 7), false, false, 1.0, 0.0);   // forward
        same(ones, b2row, h, true, false, 1.0, 1.0);                       // + bias
        same(dz, w2, random('c', 128, 256, 8), false, true, 1.0, 0.0);   // back-propagated error
        same(h, dz, w2, true, false, -0.5, 1.0);                           // weight update, in the view
        same(ones, dz, b2row, false, false, -0.5, 1.0);                    // bias update, in the view
        assertEquals(true, HostBlas.direct(h, w2, dz) && HostBlas.direct(ones, dz, b2row), "the CPU backend's direct path");
        // and the views are written in place: the network's parameter vector sees it
        INDArray before = net.params().dup();
        HostBlas.gemm(h, dz, w2, true, false, -0.5, 1.0);
        assertEquals(false, before.equals(net.params()), "the update reached the parameter vector");
        assertEquals(before.get(NDArrayIndex.point(0), NDArrayIndex.interval(0, 784 * 256)),
                net.params().get(NDArrayIndex.point(0), NDArrayIndex.interval(0, 784 * 256)),
                "and nothing outside the view changed");
    }

    @Test
    void stridedViewsAndWrongShapesGoThroughNd4j() {
        // every 2nd row: a leading dimension of 60, which BLAS takes as it is
        INDArray rows = random('c', 40, 30, 9).get(NDArrayIndex.interval(0, 2, 40), NDArrayIndex.all());
        same(rows, random('c', 30, 10, 10), random('c', 20, 10, 11), false, false, 1.0, 0.0);
        assertEquals(true, HostBlas.direct(rows, random('c', 30, 10, 10), random('c', 20, 10, 11)));
        // every 2nd column: no BLAS layout, ND4J's gemm
        INDArray cols = random('c', 30, 20, 9).get(NDArrayIndex.all(), NDArrayIndex.interval(0, 2, 20));
        same(cols, random('c', 10, 10, 10), random('c', 30, 10, 11), false, false, 1.0, 0.0);
        assertEquals(false, HostBlas.direct(cols, random('c', 10, 10, 10), random('c', 30, 10, 11)));
        assertThrows(RuntimeException.class, () -> HostBlas.gemm(random('c', 4, 5, 1), random('c', 6, 3, 2),
                Nd4j.zeros(DataType.FLOAT, 4, 3), false, false, 1.0, 0.0));
    }
    @Test
    void vectorCopyAddAndScaleGiveNd4jsBitsAndTouchOnlyTheirTarget() {
        INDArray x = random('c', 1, 1000, 12);
        INDArray y = random('c', 1, 1000, 13);
        INDArray expected = y.dup().addi(x).muli(1f / 3);
        INDArray got = y.dup();
        HostBlas.add(x, got);
        HostBlas.scale(1f / 3, got);
        assertEquals(expected, got);
        // a copy into a view of a larger vector (a network's parameters): the view changes, nothing beside it
        INDArray big = random('c', 1, 3000, 14);
        INDArray before = big.dup();
        INDArray view = big.get(NDArrayIndex.point(0), NDArrayIndex.interval(1000, 2000));
        HostBlas.copy(x, view);
        assertEquals(x.reshape(1000), view.reshape(1000));
        assertEquals(before.get(NDArrayIndex.point(0), NDArrayIndex.interval(0, 1000)),
                big.get(NDArrayIndex.point(0), NDArrayIndex.interval(0, 1000)));
        assertEquals(before.get(NDArrayIndex.point(0), NDArrayIndex.interval(2000, 3000)),
                big.get(NDArrayIndex.point(0), NDArrayIndex.interval(2000, 3000)));
        // every 2nd element: no unit stride, ND4J's own ops
        INDArray strided = random('c', 1, 2000, 15).get(NDArrayIndex.point(0), NDArrayIndex.interval(0, 2, 2000));
        INDArray sum = strided.dup().addi(x.reshape(1000));
        HostBlas.add(x, strided);
        assertEquals(sum, strided);
    }
}
