package io.github.sparkdropout.replica;

import io.github.sparkdropout.model.MlpShape;
import io.github.sparkdropout.model.DropoutMlp;
import io.github.sparkdropout.model.ParamVectors;
import io.github.sparkdropout.model.Variant;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A minibatch gathered by the replica holds exactly the shard's rows it names, as ND4J's pullRows gives them. */
class ReplicaGatherTest {
    @Test
    void gatheredRowsEqualPullRows() {
        Replica replica = new Replica(DropoutMlp.configuration(Variant.SCRATCH, 0.5, MlpShape.book(0.2, 0.5), 1).toJson(),
                ParamVectors.get(DropoutMlp.create(Variant.SCRATCH, 0.5, MlpShape.book(0.2, 0.5), 1)));
        Nd4j.getRandom().setSeed(5);
        INDArray whole = Nd4j.rand(DataType.FLOAT, 40, 784);
        INDArray features = whole.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(3, 40),
                org.nd4j.linalg.indexing.NDArrayIndex.all()); // a view at an offset, as a shard may be
        INDArray labels = Nd4j.rand(DataType.FLOAT, 37, 10);
        int[] idx = {36, 0, 5, 5, 17, 2};
        INDArray[] got = replica.gather(features, labels, idx);
        INDArray wantX = Nd4j.createUninitialized(DataType.FLOAT, idx.length, 784);
        INDArray wantY = Nd4j.createUninitialized(DataType.FLOAT, idx.length, 10);
        Nd4j.pullRows(features, wantX, 1, idx);
        Nd4j.pullRows(labels, wantY, 1, idx);
        assertEquals(wantX, got[0]);
        assertEquals(wantY, got[1]);
        assertEquals(whole.getRow(39), got[0].getRow(0));
        int[] again = {1, 2, 3, 4, 5, 6}; // the buffers are reused for the next minibatch of that size
        INDArray[] next = replica.gather(features, labels, again);
        Nd4j.pullRows(features, wantX, 1, again);
        assertEquals(wantX, next[0]);
        // rows are copied by memcpy, which checks nothing itself: an index outside the shard must throw
        assertThrows(IndexOutOfBoundsException.class, () -> replica.gather(features, labels, new int[]{0, 37}));
        assertThrows(IndexOutOfBoundsException.class, () -> replica.gather(features, labels, new int[]{-1}));
    }

    /** A shard that keeps its images as bytes gives the same float32 minibatches as one that keeps floats. */
    @Test
    void rowsOfAByteShardAreTheFloatShardsRowsExactly() {
        Replica replica = new Replica(DropoutMlp.configuration(Variant.SCRATCH, 0.5, MlpShape.book(0.2, 0.5), 1).toJson(),
                ParamVectors.get(DropoutMlp.create(Variant.SCRATCH, 0.5, MlpShape.book(0.2, 0.5), 1)));
        int n = 300;
        byte[] pixels = new byte[n * 784];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (i * 7 + i / 784); // every byte value, in every column
        }
        INDArray floats = io.github.sparkdropout.data.Shards.features(pixels, n);
        INDArray bytes = Nd4j.createUninitialized(DataType.UBYTE, n, 784);
        bytes.data().asNio().put(pixels);
        INDArray labels = Nd4j.rand(DataType.FLOAT, n, 10);
        int[] idx = {299, 0, 5, 5, 17, 2, 256, 128};
        INDArray[] fromFloats = replica.gather(floats, labels, idx).clone();
        INDArray wantX = fromFloats[0].dup();
        INDArray[] fromBytes = replica.gather(bytes, labels, idx);
        assertEquals(DataType.FLOAT, fromBytes[0].dataType());
        float[] want = wantX.data().asFloat();
        float[] got = fromBytes[0].data().asFloat();
        for (int i = 0; i < want.length; i++) {
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), "element " + i);
        }
        assertEquals(fromFloats[1], fromBytes[1]);
        assertThrows(IndexOutOfBoundsException.class, () -> replica.gather(bytes, labels, new int[]{0, n}));
    }
}
