package io.github.sparkdropout.job;

import io.github.sparkdropout.RecordingOutput;
import io.github.sparkdropout.TestData;
import io.github.sparkdropout.TestSpark;
import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.data.DataException;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code predict} on a Parquet frame takes what {@code fit} takes: a label that is no class 0..9 (NaN, 3.7, 11) and
 * features that are not finite or lie outside [0, 1] are refused with one line naming the row, the column and the
 * problem, and nothing is left at {@code --out}; a null label is an unlabelled image.
 */
class PredictInputChecksTest {
    @TempDir
    static Path dir;
    static String metrics;
    static SparkSession spark;
    /** As {@link io.github.sparkdropout.data.MnistFrames#SCHEMA}, with a nullable label (an unlabelled image). */
    static final StructType SCHEMA = new StructType().add("label", DataTypes.DoubleType, true)
            .add("features", SQLDataTypes.VectorType(), false);

    @BeforeAll
    static void trainARun() {
        spark = TestSpark.get();
        metrics = dir.resolve("metrics").toString();
        new TrainJob(spark, new RecordingOutput()).run(TrainConfig.of(Map.of("data", TestData.realData(), "metrics",
                metrics, "train-limit", "512", "test-limit", "200", "epochs", "1", "run-id", "checks", "workers",
                "2")));
    }

    /** A Parquet file of three rows in this order: two good ones (labels 1 and 2), then {@code label, pixels}. */
    static String frame(String name, Double label, double[] pixels) {
        double[] good = new double[784];
        Arrays.fill(good, 0.5);
        String path = dir.resolve(name).toString();
        spark.createDataFrame(List.of(RowFactory.create(1.0, Vectors.dense(good)),
                        RowFactory.create(2.0, Vectors.dense(good)), RowFactory.create(label, Vectors.dense(pixels))),
                SCHEMA).coalesce(1).write().parquet(path); // one file: row 2 is the third row
        return path;
    }

    static double[] pixels(int position, double value) {
        double[] p = new double[784];
        Arrays.fill(p, 0.25);
        p[position] = value;
        return p;
    }

    /** The one line predict refuses {@code name}'s frame with; --out is left absent. */
    static String refused(String name, Double label, double[] pixels) {
        String out = dir.resolve("out-" + name).toString();
        String data = frame(name, label, pixels);
        Throwable e = assertThrows(Throwable.class, () -> new PredictJob(spark).run(metrics, "checks", null, data,
                "test", 0, out), "predict must refuse " + name);
        assertFalse(Files.exists(Path.of(out)), "nothing left at --out");
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof DataException d) {
                assertFalse(d.getMessage().contains("\n"), "one line: " + d.getMessage());
                return d.getMessage();
            }
        }
        return fail("not refused as bad input (exit 2)", e);
    }

    @Test
    void aNanLabelIsRefused() {
        String m = refused("nan-label", Double.NaN, pixels(0, 0.5));
        assertTrue(m.startsWith("row 2: 'label' is NaN, not a class 0..9"), m);
    }

    @Test
    void aLabelThatIsNotAWholeNumberIsRefused() {
        String m = refused("fraction-label", 3.7, pixels(0, 0.5));
        assertTrue(m.startsWith("row 2: 'label' is 3.7, not a class 0..9"), m);
    }

    @Test
    void aLabelOutsideTheClassesIsRefused() {
        String m = refused("label-11", 11.0, pixels(0, 0.5));
        assertTrue(m.startsWith("row 2: 'label' is 11, not a class 0..9"), m);
        m = refused("label-minus-1", -1.0, pixels(0, 0.5));
        assertTrue(m.startsWith("row 2: 'label' is -1, not a class 0..9"), m);
    }

    @Test
    void featuresThatAreNotFiniteAreRefused() {
        String m = refused("nan-pixel", 1.0, pixels(17, Double.NaN));
        assertTrue(m.startsWith("row 2: 'features' holds NaN at position 17"), m);
        m = refused("infinite-pixel", 1.0, pixels(5, Double.POSITIVE_INFINITY));
        assertTrue(m.startsWith("row 2: 'features' holds Infinity at position 5"), m);
    }

    /** The network was trained on [0, 1]: pixels of 0..255 give confident, meaningless predictions. */
    @Test
    void featuresOutsideTheTrainedRangeAreRefused() {
        double[] raw = new double[784];
        for (int j = 0; j < raw.length; j++) {
            raw[j] = j % 256;
        }
        String m = refused("raw-pixels", 1.0, raw);
        assertTrue(m.startsWith("row 2: 'features' holds 2.0 at position 2, outside [0, 1]"), m);
        assertTrue(m.contains("scale the pixels to [0, 1]"), m);
        m = refused("negative-pixel", 1.0, pixels(9, -0.5));
        assertTrue(m.startsWith("row 2: 'features' holds -0.5 at position 9, outside [0, 1]"), m);
    }

    @Test
    void aNullLabelIsAnUnlabelledImageAndGoodRowsAreScored() {
        String data = frame("null-label", null, pixels(0, 1.0));
        PredictJob.Result r = new PredictJob(spark).run(metrics, "checks", null, data, "test", 0,
                dir.resolve("out-null-label").toString());
        assertEquals(3, r.rows());
        assertEquals(2, r.labelled());
    }
}
