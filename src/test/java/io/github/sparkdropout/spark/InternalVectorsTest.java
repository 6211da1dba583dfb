package io.github.sparkdropout.spark;

import io.github.sparkdropout.TestSpark;
import io.github.sparkdropout.data.FrameShards;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Vectors read from Catalyst's rows in place ({@link SparkInternals.FrameRow#vectorInto}) are what MLlib's own {@code Vector}
 * gives, dense and sparse, and a wrong size is reported, not copied: the layout is VectorUDT's, read without it.
 */
class InternalVectorsTest {
    private static final List<Vector> VECTORS = List.of(
            Vectors.dense(0.25, -1.5, 3e-8, 7.0),
            Vectors.sparse(4, new int[]{1, 3}, new double[]{-2.5, 1e30}),
            Vectors.sparse(4, new int[]{}, new double[]{}),
            Vectors.dense(1, 2, 3), // wrong size
            Vectors.sparse(5, new int[]{4}, new double[]{1})); // wrong size

    @Test
    void denseAndSparseVectorsReadInPlaceAreMllibsAsFloat32() {
        SparkSession spark = TestSpark.get();
        StructType schema = new StructType().add("v", SQLDataTypes.VectorType()).add("i", DataTypes.IntegerType);
        List<Row> rows = new java.util.ArrayList<>();
        for (int i = 0; i < VECTORS.size(); i++) {
            rows.add(RowFactory.create(VECTORS.get(i), i));
        }
        Dataset<Row> frame = spark.createDataFrame(rows, schema).repartition(1).sortWithinPartitions("i");
        List<float[]> read = SparkInternals.mapRowPartitions(frame, each -> {
            List<float[]> all = new java.util.ArrayList<>();
            while (each.hasNext()) {
                float[] x = new float[6];
                Arrays.fill(x, Float.NaN);
                x[0] = each.next().vectorInto(0, x, 1, 4);
                all.add(x);
            }
            return all;
        }).collect().get(0);
        assertEquals(VECTORS.size(), read.size());
        for (int i = 0; i < VECTORS.size(); i++) {
            Vector v = VECTORS.get(i);
            float[] got = read.get(i);
            assertEquals(v.size(), (int) got[0], "size of row " + i);
            float[] expected = new float[6];
            Arrays.fill(expected, Float.NaN);
            expected[0] = v.size();
            if (v.size() == 4) {
                FrameShards.dense(v, expected, 1);
            }
            assertArrayEquals(expected, got, "row " + i + ": " + v);
        }
    }
}
