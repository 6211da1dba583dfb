package io.github.sparkdropout.data;

import io.github.sparkdropout.TestSpark;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bytes -> chunks -> the frame's rows, and the same chunks -> one DL4J DataSet per partition: every example exactly
 * once, and the shards hold exactly the rows' values (as float32), partition by partition.
 */
class ShardsTest {
    private static FashionMnist.Split split(int n) {
        byte[] px = new byte[n * FashionMnist.PIXELS];
        byte[] labels = new byte[n];
        for (int i = 0; i < n; i++) {
            labels[i] = (byte) (i % 10);
            for (int j = 0; j < FashionMnist.PIXELS; j++) {
                px[i * FashionMnist.PIXELS + j] = (byte) ((i * 31 + j * 7) & 0xff); // all 256 byte values occur
            }
        }
        return new FashionMnist.Split("train", n, px, labels, "-", "-", false);
    }

    @Test
    void rowsAndShardsHoldEveryExampleOnceWithPixelsScaledToUnitRange() {
        int n = 23;
        FashionMnist.Split split = split(n);
        JavaRDD<Row> rows = MnistFrames.rows(TestSpark.get(), split, 2, 5L);
        List<Row> all = rows.collect();
        assertEquals(n, all.size());
        Set<Integer> seen = new HashSet<>();
        for (Row r : all) {
            double[] v = ((Vector) r.get(1)).toArray();
            // identify the example by its first pixel: i * 31 mod 256 is distinct for i < 256
            int i = -1;
            for (int k = 0; k < n; k++) {
                if (((k * 31) & 0xff) / 255.0 == v[0]) {
                    i = k;
                }
            }
            seen.add(i);
            assertEquals(i % 10, (int) r.getDouble(0));
            for (int j = 0; j < FashionMnist.PIXELS; j++) {
                assertEquals(((i * 31 + j * 7) & 0xff) / 255.0, v[j], 0.0);
            }
        }
        assertEquals(n, seen.size(), "every example exactly once");

        List<DataSet> shards = Shards.of(MnistFrames.chunks(TestSpark.get(), split, 2, 5L), "t").collect();
        assertEquals(2, shards.size());
        assertArrayEquals(new int[]{11, 12}, shards.stream().mapToInt(DataSet::numExamples).sorted().toArray());
        int row = 0;
        for (DataSet d : shards) {
            for (int k = 0; k < d.numExamples(); k++, row++) {
                double[] v = ((Vector) all.get(row).get(1)).toArray();
                float[] f = d.getFeatures().getRow(k).toFloatVector();
                for (int j = 0; j < v.length; j++) {
                    assertEquals((float) v[j], f[j], 0.0f);
                }
                float[] y = d.getLabels().getRow(k).toFloatVector();
                float[] expected = new float[FashionMnist.CLASSES];
                expected[(int) all.get(row).getDouble(0)] = 1f;
                assertArrayEquals(expected, y);
            }
        }
        assertEquals(n, row);
    }

    /** Images kept as bytes become exactly the floats of {@link Shards#features}: every byte value, bit for bit. */
    @Test
    void byteShardsGiveTheFloatShardsFeaturesBitForBit() {
        FashionMnist.Split split = split(23);
        List<DataSet> floats = Shards.of(MnistFrames.chunks(TestSpark.get(), split, 2, 5L), "f").collect();
        List<DataSet> bytes = Shards.ofBytes(MnistFrames.chunks(TestSpark.get(), split, 2, 5L), "b").collect();
        for (int p = 0; p < 2; p++) {
            assertTrue(Shards.asBytes(bytes.get(p).getFeatures()));
            assertEquals(floats.get(p).getLabels(), bytes.get(p).getLabels());
            int[] idx = java.util.stream.IntStream.range(0, floats.get(p).numExamples()).map(i -> (i * 5) % 11)
                    .toArray();
            float[] want = floats.get(p).getFeatures().getRows(idx).data().asFloat();
            float[] got = Shards.featureRows(bytes.get(p).getFeatures(), idx).data().asFloat();
            assertEquals(want.length, got.length);
            for (int i = 0; i < want.length; i++) {
                assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), "element " + i);
            }
        }
        byte[] all = new byte[256 * FashionMnist.PIXELS];
        for (int i = 0; i < all.length; i++) {
            all[i] = (byte) (i / FashionMnist.PIXELS);
        }
        INDArray into = Nd4j.createUninitialized(DataType.FLOAT, 256, FashionMnist.PIXELS);
        Shards.bytesToFeatures(Shards.bytes(all, 256), into);
        float[] want = Shards.features(all, 256).data().asFloat();
        float[] got = into.data().asFloat();
        for (int i = 0; i < want.length; i++) {
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), "byte " + i / 784);
        }
    }

    /**
     * Test shards made beside the training shards hold what {@link Shards#of} would, and are computed from the cached
     * training shards' partitions (their first parent), which is what makes Spark run each of their tasks on the
     * executor that caches training partition i (standalone: bench/standalone-smoke.sh's rounds log).
     */
    @Test
    void shardsBesideTheTrainingShardsHoldTheSameExamplesAndFollowTheTrainingPartitions() {
        FashionMnist.Split train = split(40);
        FashionMnist.Split test = split(9);
        JavaRDD<DataSet> trainShards = Shards.ofBytes(MnistFrames.chunks(TestSpark.get(), train, 2, 5L), "tr");
        trainShards.count();
        JavaRDD<DataSet> beside = Shards.beside(trainShards, MnistFrames.chunks(TestSpark.get(), test, 2, null),
                Shards::toDataSet, "te");
        List<DataSet> plain = Shards.of(MnistFrames.chunks(TestSpark.get(), test, 2, null), "te").collect();
        List<DataSet> got = beside.collect();
        assertEquals(2, got.size());
        for (int p = 0; p < 2; p++) {
            assertEquals(plain.get(p).getFeatures(), got.get(p).getFeatures());
            assertEquals(plain.get(p).getLabels(), got.get(p).getLabels());
        }
        assertEquals(trainShards.rdd().id(), beside.rdd().dependencies().head().rdd().id(),
                "the training shards are the first parent: Spark places each task where they are cached");
        assertEquals(org.apache.spark.storage.StorageLevel.MEMORY_ONLY(), beside.getStorageLevel());
        trainShards.unpersist(false);
        beside.unpersist(false);
    }
}
