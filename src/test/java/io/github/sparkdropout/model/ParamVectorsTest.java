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
}
