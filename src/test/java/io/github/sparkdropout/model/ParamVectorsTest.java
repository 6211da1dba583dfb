package io.github.sparkdropout.model;

import io.github.sparkdropout.KernelSensitive;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

@KernelSensitive
class ParamVectorsTest {
    @Test
    void bulkCopiesEqualNd4jsOwnAndWriteThroughToTheLayers() {
        MultiLayerNetwork a = DropoutMlp.create(Variant.SCRATCH, 0.5, MlpShape.book(0.2, 0.5), 1);
        MultiLayerNetwork b = DropoutMlp.create(Variant.SCRATCH, 0.5, MlpShape.book(0.2, 0.5), 2);
        float[] pa = ParamVectors.get(a);
        assertArrayEquals(a.params().toFloatVector(), pa);
        ParamVectors.set(b, pa);
        assertArrayEquals(pa, b.params().toFloatVector());
        // the layers' W and b are views of the parameter vector: they must see the new values
        assertEquals(a.getLayer(1).getParam("W"), b.getLayer(1).getParam("W"));
        assertEquals(a.getLayer(2).getParam("b"), b.getLayer(2).getParam("b"));
        pa[0] += 1f;
        assertEquals(a.params().getFloat(0), b.params().getFloat(0), "the copy is not shared with the network");
        assertThrows(IllegalArgumentException.class, () -> ParamVectors.set(b, new float[3]));
    }

    @Test
    void aNativeVectorIsCopiedInNotShared() {
        MultiLayerNetwork a = DropoutMlp.create(Variant.CONCISE, 0.5, MlpShape.book(0.2, 0.5), 1);
        MultiLayerNetwork b = DropoutMlp.create(Variant.CONCISE, 0.5, MlpShape.book(0.2, 0.5), 2);
        org.nd4j.linalg.api.ndarray.INDArray mean = ParamVectors.fromFloats(ParamVectors.get(a));
        ParamVectors.set(b, mean);
        assertArrayEquals(ParamVectors.get(a), ParamVectors.get(b));
        assertEquals(a.getLayer(2).getParam("W"), b.getLayer(2).getParam("W"), "the layers' views see it");
        mean.putScalar(0, 42f);
        assertEquals(a.params().getFloat(0), b.params().getFloat(0), "a copy, not the vector itself");
        assertThrows(IllegalArgumentException.class, () -> ParamVectors.set(b, ParamVectors.fromFloats(new float[3])));
    }

    @Test
    void aHeapArrayBecomesANativeRowVectorOfTheSameBits() {
        float[] values = new float[269_322];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) Math.sin(i) * (i % 7 == 0 ? 1e-40f : 3.5f); // subnormals too
        }
        values[0] = Float.intBitsToFloat(0x7fc01234); // a NaN with a payload
        values[1] = -0.0f;
        values[2] = Float.NEGATIVE_INFINITY;
        org.nd4j.linalg.api.ndarray.INDArray v = ParamVectors.fromFloats(values);
        assertEquals(org.nd4j.linalg.api.buffer.DataType.FLOAT, v.dataType());
        assertArrayEquals(new long[]{1, values.length}, v.shape());
        assertEquals('c', v.ordering());
        float[] back = ParamVectors.toFloats(v);
        for (int i = 0; i < values.length; i++) {
            assertEquals(Float.floatToRawIntBits(values[i]), Float.floatToRawIntBits(back[i]), "value " + i);
        }
        values[5] = 42f;
        assertEquals(back[5], v.getFloat(5), "a copy, not a view of the heap array");
        assertArrayEquals(new long[]{1, 0}, ParamVectors.fromFloats(new float[0]).shape());
    }
}
