package io.github.sparkdropout.data;

import io.github.sparkdropout.TestSpark;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
