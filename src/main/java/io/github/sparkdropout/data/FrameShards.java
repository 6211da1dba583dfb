package io.github.sparkdropout.data;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.linalg.DenseVector;
import org.apache.spark.ml.linalg.SparseVector;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.concurrency.AffinityManager;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

import static org.apache.spark.sql.functions.col;

/**
 * A Spark ML frame (a vector column of 784 values in [0, 1], a numeric label column 0..9) as the trainer's
 * {@link Shards}: one cached DL4J {@link DataSet} per worker. Every row is checked first, in one Spark job, so a bad
 * frame fails before training with one line naming the column and the problem.
 */
public final class FrameShards {
    /** What a run trained from a DataFrame records as its {@code data} (there is no path to read it from again). */
    public static final String DATA_SOURCE = "dataframe";

    private FrameShards() {
    }

    /** The shards and what they hold (counted and checksummed in partition order). */
    public record Loaded(JavaRDD<DataSet> shards, Provenance provenance, JavaRDD<?> cached) {
        /** Frees the executors' memory the shards hold. */
        public void release() {
            cached.unpersist(false);
        }
    }

    /**
     * A frame's checksums: SHA-256 over the partitions' SHA-256s of their features as float32 (big-endian, row
     * after row) and of their labels as bytes.
     */
    public record Provenance(int count, String imagesSha256, String labelsSha256) implements DataProvenance,
            Serializable {
        /** No data at all (a fit without a validation set): zero examples, the checksums of nothing. */
        public static final Provenance NONE = new Provenance(0, sha256Hex(new byte[0]), sha256Hex(new byte[0]));

        @Override
        public boolean official() {
            return false;
        }
    }

    /** Whether {@code label} is a class 0..9: what fit trains on and what predict scores accuracy against. */
    public static boolean isClass(double label) {
        return label == Math.rint(label) && label >= 0 && label < FashionMnist.CLASSES;
    }

    /** One line naming the column and its problem, if {@code schema} lacks the columns or has the wrong types. */
    public static void requireColumns(StructType schema, String featuresCol, String labelCol) {
        List<String> names = Arrays.asList(schema.fieldNames());
        for (String c : labelCol == null ? List.of(featuresCol) : List.of(featuresCol, labelCol)) {
            if (!names.contains(c)) {
                throw new DataException("column '" + c + "' not found; the frame has: " + String.join(", ", names));
            }
        }
        if (!(schema.apply(featuresCol).dataType() instanceof VectorUDT)) {
            throw new DataException("column '" + featuresCol + "' is " + schema.apply(featuresCol).dataType()
                    .simpleString() + ", not a vector (assemble the " + FashionMnist.PIXELS
                    + " pixels with VectorAssembler)");
        }
        if (labelCol != null && !(schema.apply(labelCol).dataType() instanceof NumericType)) {
            throw new DataException("column '" + labelCol + "' is " + schema.apply(labelCol).dataType().simpleString()
                    + ", not a number (a class 0.." + (FashionMnist.CLASSES - 1) + ")");
        }
    }

    /**
     * {@code frame}'s ({@code featuresCol}, {@code labelCol}) rows as {@code partitions} cached shards (the frame is
     * repartitioned unless it has that many partitions already), after checking every row.
     */
    public static Loaded of(Dataset<?> frame, String featuresCol, String labelCol, int partitions, String name) {
        requireColumns(frame.schema(), featuresCol, labelCol);
        Dataset<Row> input = frame.select(col(featuresCol), col(labelCol).cast("double"));
        if (input.javaRDD().getNumPartitions() != partitions) {
            input = input.repartition(partitions);
        }
        // ONE pass over the frame: each partition is checked and, if it is clean, made into its shard; the checks
        // come back to the driver, the shards stay cached where they were made
        JavaRDD<Built> built = input.javaRDD().mapPartitions(it -> List.of(Built.of(it)).iterator())
                .persist(StorageLevel.MEMORY_ONLY());
        built.setName(name + " shards (one DL4J DataSet per worker)");
        Provenance provenance;
        try {
            provenance = verdict(built.map(Built::check).collect(), featuresCol, labelCol, partitions, name);
        } catch (RuntimeException e) {
            built.unpersist(false);
            throw e;
        }
        // a partition without rows (a frame's own partitioning can leave some empty) has no shard: its worker
        // joins every round and trains nothing, as a worker whose shard runs out does
        return new Loaded(built.flatMap(b -> b.shard() == null ? Collections.<DataSet>emptyIterator()
                : List.of(b.shard()).iterator()), provenance, built);
    }

    /** A partition's check and, when the partition has no problem, its shard. */
    private record Built(Check check, DataSet shard) implements Serializable {
        static Built of(Iterator<Row> rows) {
            Check check = new Check();
            DataSet shard = toDataSet(rows, check);
            return new Built(check, check.clean() ? shard : null);
        }
    }

    /** What one partition holds, and what is wrong with it. */
    private static final class Check implements Serializable {
        long rows;
        long nullFeatures;
        long nullLabels;
        long wrongSize;
        int aWrongSize;
        long nonFinite;
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        long badLabels;
        double aBadLabel;
        byte[] imagesDigest;
        byte[] labelsDigest;

        private final transient MessageDigest images = sha256();
        private final transient MessageDigest labels = sha256();
        private final transient ByteBuffer bits = ByteBuffer.allocate(FashionMnist.PIXELS * Float.BYTES);

        boolean clean() {
            return nullFeatures == 0 && nullLabels == 0 && wrongSize == 0 && nonFinite == 0 && badLabels == 0
                    && (rows == 0 || (min >= 0 && max <= 1));
        }

        /** Checks one row; true if it can go into the shard (its features are then in {@code x}). */
        boolean row(Row r, float[] x, int offset) {
            rows++;
            boolean ok = true;
            if (r.isNullAt(1)) {
                nullLabels++;
                ok = false;
            } else {
                double l = r.getDouble(1);
                if (!isClass(l)) {
                    badLabels++;
                    aBadLabel = l;
                    ok = false;
                } else {
                    labels.update((byte) l);
                }
            }
            if (r.isNullAt(0)) {
                nullFeatures++;
                return false;
            }
            Vector v = (Vector) r.get(0);
            if (v.size() != FashionMnist.PIXELS) {
                wrongSize++;
                aWrongSize = v.size();
                return false;
            }
            dense(v, x, offset);
            bits.clear();
            for (int j = offset; j < offset + FashionMnist.PIXELS; j++) {
                float f = x[j];
                if (!Float.isFinite(f)) {
                    nonFinite++;
                    ok = false;
                } else {
                    min = Math.min(min, f);
                    max = Math.max(max, f);
                }
                bits.putFloat(f);
            }
            images.update(bits.array());
            return ok;
        }

        /** The partition is read: its digests are final. */
        void done() {
            imagesDigest = images.digest();
            labelsDigest = labels.digest();
        }
    }

    /** The frame's provenance, or one line on the first problem found over all partitions. */
    private static Provenance verdict(List<Check> checks, String featuresCol, String labelCol, int partitions,
                                      String name) {
        long rows = 0;
        long nullFeatures = 0;
        long nullLabels = 0;
        long wrongSize = 0;
        long nonFinite = 0;
        long badLabels = 0;
        int aWrongSize = 0;
        double aBadLabel = 0;
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        MessageDigest images = sha256();
        MessageDigest labels = sha256();
        for (Check c : checks) {
            rows += c.rows;
            nullFeatures += c.nullFeatures;
            nullLabels += c.nullLabels;
            wrongSize += c.wrongSize;
            nonFinite += c.nonFinite;
            badLabels += c.badLabels;
            aWrongSize = c.wrongSize > 0 ? c.aWrongSize : aWrongSize;
            aBadLabel = c.badLabels > 0 ? c.aBadLabel : aBadLabel;
            min = Math.min(min, c.min);
            max = Math.max(max, c.max);
            images.update(c.imagesDigest);
            labels.update(c.labelsDigest);
        }
        String f = "column '" + featuresCol + "'";
        String l = "column '" + labelCol + "'";
        if (rows == 0) {
            throw new DataException("the " + name + " frame has no rows");
        }
        if (rows < partitions) {
            throw new DataException("the " + name + " frame has " + rows + " row(s) for " + partitions
                    + " workers: every worker needs at least one");
        }
        long empty = checks.stream().filter(c -> c.rows == 0).count();
        if (empty > 0) {
            org.slf4j.LoggerFactory.getLogger(FrameShards.class).warn("{} of the {} partitions of the {} frame have no"
                    + " rows: {} of {} workers train nothing (repartition the frame to spread its rows)", empty,
                    partitions, name, empty, partitions);
        }
        if (rows > Integer.MAX_VALUE) {
            throw new DataException("the " + name + " frame has " + rows + " rows: at most " + Integer.MAX_VALUE);
        }
        if (nullFeatures > 0) {
            throw new DataException(f + " has " + nullFeatures + " null value(s) in the " + name + " frame");
        }
        if (nullLabels > 0) {
            throw new DataException(l + " has " + nullLabels + " null value(s) in the " + name + " frame");
        }
        if (wrongSize > 0) {
            throw new DataException(f + " holds " + wrongSize + " vector(s) of " + aWrongSize + " values (e.g.) in the "
                    + name + " frame: the network takes " + FashionMnist.PIXELS + " (28 x 28 pixels)");
        }
        if (nonFinite > 0) {
            throw new DataException(f + " has " + nonFinite + " NaN or infinite value(s) in the " + name + " frame");
        }
        if (min < 0 || max > 1) {
            throw new DataException(String.format(Locale.ROOT, "%s has values outside [0, 1] in the %s frame (min %s,"
                    + " max %s): scale the pixels to [0, 1] (divide by 255, or MinMaxScaler)", f, name, min, max));
        }
        if (badLabels > 0) {
            throw new DataException(l + " has " + badLabels + " value(s) that are not a class 0.."
                    + (FashionMnist.CLASSES - 1) + " in the " + name + " frame (e.g. " + aBadLabel + ")");
        }
        return new Provenance((int) rows, HexFormat.of().formatHex(images.digest()),
                HexFormat.of().formatHex(labels.digest()));
    }

    /**
     * A partition as one DataSet (float32 features [n, 784], one-hot labels [n, 10]), every row checked by
     * {@code check} on the way; null if any row failed.
     */
    private static DataSet toDataSet(Iterator<Row> it, Check check) {
        int px = FashionMnist.PIXELS;
        float[] x = new float[1024 * px];
        byte[] y = new byte[1024];
        int n = 0;
        while (it.hasNext()) {
            Row r = it.next();
            if (n == y.length) {
                x = Arrays.copyOf(x, 2 * n * px);
                y = Arrays.copyOf(y, 2 * n);
            }
            if (check.row(r, x, n * px)) {
                y[n++] = (byte) r.getDouble(1);
            }
        }
        check.done();
        if (!check.clean() || n == 0) {
            return null;
        }
        // straight into the native buffer (no trimmed copy of the rows first)
        INDArray features = Nd4j.createUninitialized(DataType.FLOAT, n, px);
        features.data().asNioFloat().put(0, x, 0, n * px);
        Nd4j.getAffinityManager().tagLocation(features, AffinityManager.Location.HOST);
        return new DataSet(features, Shards.oneHot(y, n));
    }

    /** {@code v} (dense or sparse) as float32 into {@code out} from {@code offset}. */
    public static void dense(Vector v, float[] out, int offset) {
        if (v instanceof DenseVector d) {
            double[] a = d.values();
            for (int j = 0; j < a.length; j++) {
                out[offset + j] = (float) a[j];
            }
        } else {
            SparseVector s = (SparseVector) v;
            Arrays.fill(out, offset, offset + s.size(), 0f);
            int[] idx = s.indices();
            double[] a = s.values();
            for (int k = 0; k < idx.length; k++) {
                out[offset + idx[k]] = (float) a[k];
            }
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String sha256Hex(byte[] bytes) {
        return HexFormat.of().formatHex(sha256().digest(bytes));
    }
}
