package io.github.sparkdropout.data;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.linalg.DenseVector;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * A {@link FashionMnist.Split} as a partitioned Spark {@code Dataset<Row>} in the Spark ML convention: a
 * {@code label} (double) and a {@code features} vector column (784 pixels scaled to [0, 1]).
 * The driver ships each partition its examples once, as compact bytes (a broadcast); rows are made in the
 * executors.
 */
public final class MnistFrames {
    public static final StructType SCHEMA = new StructType()
            .add("label", DataTypes.DoubleType, false)
            .add("features", SQLDataTypes.VectorType(), false);

    private MnistFrames() {
    }

    /** One partition's examples as bytes: pixels 0..255, 784 per example, row-major; labels 0..9. */
    public record Chunk(byte[] pixels, byte[] labels) implements Serializable {
        public int count() {
            return labels.length;
        }
    }

    /**
     * {@code partitions} partitions of nearly equal size. With a {@code shuffleSeed} the examples are first put in
     * a seeded random order (training: each worker's shard is a random sample); with {@code null} file order is
     * kept (test).
     */
    public static Dataset<Row> of(SparkSession spark, FashionMnist.Split split, int partitions, Long shuffleSeed) {
        return spark.createDataFrame(rows(spark, split, partitions, shuffleSeed), SCHEMA);
    }

    /**
     * The rows a {@link #of} frame is made of, as the RDD it is built on: {@link #chunks} expanded to one
     * (label, features) row per example.
     */
    public static JavaRDD<Row> rows(SparkSession spark, FashionMnist.Split split, int partitions, Long shuffleSeed) {
        return chunks(spark, split, partitions, shuffleSeed).flatMap(MnistFrames::rows);
    }

    /**
     * The examples as {@code partitions} partitions of ONE compact {@link Chunk} each (what the frame's rows and
     * the trainer's {@link Shards} are both made from), nearly equal in size. With a {@code shuffleSeed} the
     * examples are first put in a seeded random order (training: each worker's shard is a random sample); with
     * {@code null} file order is kept (test).
     */
    public static JavaRDD<Chunk> chunks(SparkSession spark, FashionMnist.Split split, int partitions,
                                        Long shuffleSeed) {
        int n = split.count();
        if (partitions > n) {
            throw new DataException("--workers " + partitions + " exceeds the "
                    + n + " examples of the " + split.name() + " set: every worker needs at least one");
        }
        int[] order = shuffleSeed == null ? null : Shuffle.permutation(n, shuffleSeed);
        int px = FashionMnist.PIXELS;
        List<Chunk> chunks = new ArrayList<>(partitions);
        for (int p = 0; p < partitions; p++) {
            int from = (int) ((long) p * n / partitions);
            int to = (int) ((long) (p + 1) * n / partitions);
            byte[] pixels = new byte[(to - from) * px];
            byte[] labels = new byte[to - from];
            for (int i = from; i < to; i++) {
                int src = order == null ? i : order[i];
                System.arraycopy(split.pixels(), src * px, pixels, (i - from) * px, px);
                labels[i - from] = split.labels()[src];
            }
            chunks.add(new Chunk(pixels, labels));
        }
        // The bytes travel as a broadcast, not inside parallelize(): a ParallelCollection's data rides in every
        // task of every later job over this lineage (each training round), a broadcast is fetched once per executor.
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<List<Chunk>> data = sc.broadcast(chunks);
        List<Integer> ids = new ArrayList<>(partitions);
        for (int p = 0; p < partitions; p++) {
            ids.add(p);
        }
        return sc.parallelize(ids, partitions).map(p -> data.value().get(p));
    }

    /** k / 255.0 for every byte value: the same doubles as dividing, without 47 M divisions. */
    static final double[] SCALED = new double[256];

    static {
        for (int k = 0; k < 256; k++) {
            SCALED[k] = k / 255.0;
        }
    }

    private static Iterator<Row> rows(Chunk c) {
        int px = FashionMnist.PIXELS;
        return new Iterator<>() {
            int i = 0;

            @Override
            public boolean hasNext() {
                return i < c.labels().length;
            }

            @Override
            public Row next() {
                double[] v = new double[px];
                byte[] pixels = c.pixels();
                int o = i * px;
                for (int j = 0; j < px; j++) {
                    v[j] = SCALED[pixels[o + j] & 0xff];
                }
                return RowFactory.create((double) c.labels()[i++], new DenseVector(v));
            }
        };
    }
}
