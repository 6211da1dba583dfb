package io.github.sparkdropout.bench;

import io.github.sparkdropout.data.FashionMnist;
import io.github.sparkdropout.data.FrameShards;
import io.github.sparkdropout.data.MnistFrames;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.util.Arrays;
import java.util.Locale;

/**
 * How long the Estimator takes to load a frame into its workers' shards ({@link FrameShards#of}: one Spark job that
 * checks every row, checksums the frame, takes each feature's range and caches the shards): Fashion-MNIST's 60,000
 * training rows, cached in 2 partitions as the Estimator gets them from a user, loaded N times in one JVM.
 *
 * <p>{@code FrameLoadBench [N]} (default 12): prints each load's seconds and the median of the second half (warm).
 */
public final class FrameLoadBench {
    private FrameLoadBench() {
    }

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 12;
        SparkSession spark = SparkSession.builder().master("local[2]").appName("frame-load-bench").getOrCreate();
        Dataset<Row> frame = MnistFrames.of(spark, FashionMnist.train("data/fashion-mnist", 0,
                spark.sparkContext().hadoopConfiguration()), 2, 42L).cache();
        frame.count();
        double[] seconds = new double[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            FrameShards.Loaded loaded = FrameShards.of(frame, "features", "label", 2, "training", FashionMnist.PIXELS,
                    FashionMnist.CLASSES);
            seconds[i] = (System.nanoTime() - t0) / 1e9;
            loaded.release();
            System.out.printf(Locale.ROOT, "load %d: %.3f s (%d rows)%n", i + 1, seconds[i],
                    loaded.provenance().count());
        }
        double[] warm = Arrays.copyOfRange(seconds, n / 2, n);
        Arrays.sort(warm);
        System.out.printf(Locale.ROOT, "RESULT loads=%d first_s=%.3f warm_median_s=%.3f warm_min_s=%.3f%n", n,
                seconds[0], warm[warm.length / 2], warm[0]);
        spark.stop();
    }
}
