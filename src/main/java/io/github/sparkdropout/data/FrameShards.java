package io.github.sparkdropout.data;

import io.github.sparkdropout.spark.SparkInternals;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.attribute.Attribute;
import org.apache.spark.ml.attribute.AttributeGroup;
import org.apache.spark.ml.attribute.NominalAttribute;
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
import java.nio.FloatBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;

import static org.apache.spark.sql.functions.col;

/**
 * A Spark ML frame (a vector column of finite values, dense or sparse; a numeric label column of classes 0..k-1) as
 * the trainer's {@link Shards}: one cached DL4J {@link DataSet} per worker. Every row is checked first, in one Spark
 * job, so a bad frame fails before training with one line naming the column and the problem. The frame's shape
 * (features, classes) is the caller's, e.g. from {@link #vectorSize} and {@link #classes}.
 */
public final class FrameShards {
    /** What a run trained from a DataFrame records as its {@code data} (there is no path to read it from again). */
    public static final String DATA_SOURCE = "dataframe";

    private FrameShards() {
    }

    /** The shards, what they hold (counted and checksummed in partition order), and the features' range. */
    public record Loaded(JavaRDD<DataSet> shards, Provenance provenance, FeatureRange range, JavaRDD<?> cached) {
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

    /** Whether {@code label} is a class 0..classes-1: what fit trains on and what predict scores against. */
    public static boolean isClass(double label, int classes) {
        return label == Math.rint(label) && label >= 0 && label < classes;
    }

    /**
     * The size of the vectors in {@code frame}'s column {@code featuresCol}: from the column's ML attributes (what
     * VectorAssembler and MLlib's transformers record), else from its first non-null row (a small job).
     */
    public static int vectorSize(Dataset<?> frame, String featuresCol) {
        int size = AttributeGroup.fromStructField(frame.schema().apply(featuresCol)).size();
        if (size >= 0) {
            return size;
        }
        List<Row> first = frame.select(col(featuresCol)).where(col(featuresCol).isNotNull()).limit(1)
                .collectAsList();
        if (first.isEmpty()) {
            throw new DataException("column '" + featuresCol + "' has no values: the frame has no rows, or only"
                    + " nulls there");
        }
        return ((Vector) first.get(0).get(0)).size();
    }

    /**
     * The classes of {@code frame}'s column {@code labelCol}, as MLlib's classifiers count them: the column's
     * nominal attribute (what StringIndexer records: the count and the names), else max label + 1, named by their
     * numbers (a job over the column).
     */
    public static List<String> classes(Dataset<?> frame, String labelCol) {
        java.util.Optional<List<String>> nominal = nominalClasses(frame.schema(), labelCol);
        if (nominal.isPresent()) {
            return requireClasses(nominal.get().size(), labelCol, nominal.get());
        }
        Row max = frame.agg(org.apache.spark.sql.functions.max(col(labelCol).cast("double"))).first();
        if (max.isNullAt(0)) {
            throw new DataException("column '" + labelCol + "' has no values: the frame has no rows, or only nulls"
                    + " there");
        }
        double m = max.getDouble(0);
        if (!(m == Math.rint(m)) || m < 0 || m >= Integer.MAX_VALUE) {
            throw new DataException("column '" + labelCol + "' holds " + m + ": labels must be class indices 0, 1,"
                    + " 2, ... (index strings with StringIndexer)");
        }
        int k = (int) m + 1;
        return requireClasses(k, labelCol, java.util.stream.IntStream.range(0, k).mapToObj(Integer::toString)
                .toList());
    }

    /** The classes the nominal attribute of column {@code labelCol} names (StringIndexer's), if it has one. */
    public static java.util.Optional<List<String>> nominalClasses(StructType schema, String labelCol) {
        Attribute attribute = Attribute.fromStructField(schema.apply(labelCol));
        if (attribute instanceof NominalAttribute nominal && nominal.getNumValues().isDefined()) {
            int k = (Integer) nominal.getNumValues().get();
            List<String> names = new java.util.ArrayList<>();
            for (int c = 0; c < k; c++) {
                names.add(nominal.values().isDefined() ? nominal.getValue(c) : Integer.toString(c));
            }
            return java.util.Optional.of(names);
        }
        return java.util.Optional.empty();
    }

    private static List<String> requireClasses(int k, String labelCol, List<String> names) {
        if (k < 2) {
            throw new DataException("column '" + labelCol + "' has " + k + " class" + (k == 1 ? "" : "es")
                    + ": a classifier needs at least 2 (labels 0..k-1)");
        }
        return names;
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
                    .simpleString() + ", not a vector (assemble the feature columns with VectorAssembler)");
        }
        if (labelCol != null && !(schema.apply(labelCol).dataType() instanceof NumericType)) {
            throw new DataException("column '" + labelCol + "' is " + schema.apply(labelCol).dataType().simpleString()
                    + ", not a number (a class index 0, 1, ...: index strings with StringIndexer)");
        }
    }

    /**
     * {@code frame}'s ({@code featuresCol}, {@code labelCol}) rows as {@code partitions} cached shards (the frame is
     * repartitioned unless it has that many partitions already), after checking every row: vectors of
     * {@code features} finite values, labels 0..{@code classes}-1.
     */
    public static Loaded of(Dataset<?> frame, String featuresCol, String labelCol, int partitions, String name,
                            int features, int classes) {
        requireColumns(frame.schema(), featuresCol, labelCol);
        Dataset<Row> input = frame.select(col(featuresCol), col(labelCol).cast("double"));
        if (input.javaRDD().getNumPartitions() != partitions) {
            input = input.repartition(partitions);
        }
        // ONE pass over the frame: each partition is checked and, if it is clean, made into its shard; the checks
        // come back to the driver, the shards stay cached where they were made. Read as Catalyst's rows: a Row and
        // a double[] for each row were the largest part of the pass in a profile of a Fashion-MNIST load
        JavaRDD<Built> built = SparkInternals.mapRowPartitions(input, rows -> Built.of(rows, features, classes))
                .persist(StorageLevel.MEMORY_ONLY());
        built.setName(name + " shards (one DL4J DataSet per worker)");
        Provenance provenance;
        List<Check> checks;
        try {
            checks = built.map(Built::check).collect();
            provenance = verdict(checks, featuresCol, labelCol, partitions, name, features, classes);
        } catch (RuntimeException e) {
            built.unpersist(false);
            throw e;
        }
        // a partition without rows (a frame's own partitioning can leave some empty) has no shard: its worker
        // joins every round and trains nothing, as a worker whose shard runs out does
        return new Loaded(built.flatMap(b -> b.shard() == null ? Collections.<DataSet>emptyIterator()
                : List.of(b.shard()).iterator()), provenance, range(checks, features), built);
    }

    /** A partition's check and, when the partition has no problem, its shard. */
    private record Built(Check check, DataSet shard) implements Serializable {
        static Built of(Iterator<SparkInternals.FrameRow> rows, int features, int classes) {
            Check check = new Check(features, classes);
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
        final int features;
        final int classes;
        final double[] min; // per feature, over the rows that go into the shard
        final double[] max;
        long badLabels;
        double aBadLabel;
        byte[] imagesDigest;
        byte[] labelsDigest;

        private final transient MessageDigest images = sha256();
        private final transient MessageDigest labels = sha256();
        private final transient ByteBuffer bits;
        private final transient FloatBuffer bitsAsFloats; // big-endian floats, written in bulk
        private final transient ByteBuffer labelBits = ByteBuffer.allocate(Integer.BYTES);

        Check(int features, int classes) {
            this.features = features;
            this.classes = classes;
            min = new double[features];
            max = new double[features];
            Arrays.fill(min, Double.POSITIVE_INFINITY);
            Arrays.fill(max, Double.NEGATIVE_INFINITY);
            bits = ByteBuffer.allocate(features * Float.BYTES);
            bitsAsFloats = bits.asFloatBuffer();
        }

        boolean clean() {
            return nullFeatures == 0 && nullLabels == 0 && wrongSize == 0 && nonFinite == 0 && badLabels == 0;
        }

        /** Checks one row; true if it can go into the shard (its features are then in {@code x}). */
        boolean row(SparkInternals.FrameRow r, float[] x, int offset) {
            rows++;
            boolean ok = true;
            if (r.isNullAt(1)) {
                nullLabels++;
                ok = false;
            } else {
                double l = r.getDouble(1);
                if (!isClass(l, classes)) {
                    badLabels++;
                    aBadLabel = l;
                    ok = false;
                } else if (classes <= 256) {
                    labels.update((byte) l); // a byte a label, as the IDX label files hold them
                } else {
                    labels.update(labelBits.clear().putInt((int) l).array());
                }
            }
            if (r.isNullAt(0)) {
                nullFeatures++;
                return false;
            }
            int size = r.vectorInto(0, x, offset, features);
            if (size != features) {
                wrongSize++;
                aWrongSize = size;
                return false;
            }
            bitsAsFloats.clear();
            bitsAsFloats.put(x, offset, features);
            images.update(bits.array());
            boolean finite = true;
            for (int j = offset; j < offset + features; j++) {
                finite &= Float.isFinite(x[j]);
            }
            if (!finite) {
                nonFinite++;
                return false;
            }
            if (ok) {
                // finite values only here: plain comparisons, without Math.min/max's NaN and -0.0 rules
                for (int j = 0; j < features; j++) {
                    double f = x[offset + j];
                    if (f < min[j]) {
                        min[j] = f;
                    }
                    if (f > max[j]) {
                        max[j] = f;
                    }
                }
            }
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
                                      String name, int features, int classes) {
        long rows = 0;
        long nullFeatures = 0;
        long nullLabels = 0;
        long wrongSize = 0;
        long nonFinite = 0;
        long badLabels = 0;
        int aWrongSize = 0;
        double aBadLabel = 0;
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
                    + name + " frame: the network takes " + features + " (layers starts with " + features + ")");
        }
        if (nonFinite > 0) {
            throw new DataException(f + " has " + nonFinite + " row(s) with NaN or infinite values in the " + name
                    + " frame");
        }
        if (badLabels > 0) {
            throw new DataException(l + " has " + badLabels + " value(s) that are not a class 0.." + (classes - 1)
                    + " in the " + name + " frame (e.g. " + aBadLabel + "; layers ends with " + classes + ")");
        }
        return new Provenance((int) rows, HexFormat.of().formatHex(images.digest()),
                HexFormat.of().formatHex(labels.digest()));
    }

    /** The features' range over every partition's rows. */
    private static FeatureRange range(List<Check> checks, int features) {
        double[] min = new double[features];
        double[] max = new double[features];
        Arrays.fill(min, Double.POSITIVE_INFINITY);
        Arrays.fill(max, Double.NEGATIVE_INFINITY);
        for (Check c : checks) {
            for (int j = 0; j < features; j++) {
                min[j] = Math.min(min[j], c.min[j]);
                max[j] = Math.max(max[j], c.max[j]);
            }
        }
        return new FeatureRange(min, max);
    }

    /**
     * A partition as one DataSet (float32 features [n, features], one-hot labels [n, classes]), every row checked
     * by {@code check} on the way; null if any row failed. Rows are gathered in blocks, then copied once into the
     * native buffer (no growing array copied over and over, no trimmed copy).
     */
    private static DataSet toDataSet(Iterator<SparkInternals.FrameRow> it, Check check) {
        int px = check.features;
        int blockRows = Math.max(1, (1 << 20) / Math.max(1, px)); // ~4 MB a block
        List<float[]> blocks = new ArrayList<>();
        float[] block = new float[blockRows * px];
        blocks.add(block);
        int inBlock = 0;
        int[] y = new int[1024];
        int n = 0;
        while (it.hasNext()) {
            SparkInternals.FrameRow r = it.next();
            if (inBlock == blockRows) {
                block = new float[blockRows * px];
                blocks.add(block);
                inBlock = 0;
            }
            if (check.row(r, block, inBlock * px)) {
                if (n == y.length) {
                    y = Arrays.copyOf(y, 2 * n);
                }
                y[n++] = (int) r.getDouble(1);
                inBlock++;
            }
        }
        check.done();
        if (!check.clean() || n == 0) {
            return null;
        }
        INDArray features = Nd4j.createUninitialized(DataType.FLOAT, n, px);
        FloatBuffer into = features.data().asNioFloat();
        for (int b = 0, done = 0; done < n; b++) {
            int rows = Math.min(blockRows, n - done);
            into.put(done * px, blocks.get(b), 0, rows * px);
            done += rows;
        }
        Nd4j.getAffinityManager().tagLocation(features, AffinityManager.Location.HOST);
        return new DataSet(features, Shards.oneHot(y, n, check.classes));
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
