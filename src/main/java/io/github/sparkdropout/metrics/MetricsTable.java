package io.github.sparkdropout.metrics;

import io.github.sparkdropout.config.UsageException;
import io.github.sparkdropout.fs.LiteralPaths;
import io.github.sparkdropout.fs.Protection;
import io.github.sparkdropout.fs.Renames;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import io.github.sparkdropout.spark.SparkInternals;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.util.List;
import java.util.UUID;

/**
 * The metrics directory: two Parquet tables, {@code epochs/} and {@code classes/}, readable by any Spark
 * ({@code spark.read.parquet}) or a stock {@code spark-sql}.
 *
 * <p>Each epoch is appended as ONE Parquet file, named {@code <run_id>-epoch-NNNN.parquet}: Spark SQL's Parquet
 * writer writes it in the driver, without a Spark job ({@link SparkInternals#writeParquetFile}), into a private
 * staging directory ({@code _staging/}, hidden from readers by its leading underscore), then a single filesystem
 * rename publishes it. A rename of one file is atomic on HDFS and local filesystems, so a row appears
 * whole or not at all, and two runs appending at once never touch each other's files (each stages under its own
 * random name). The location is a path, never a pattern ({@link LiteralPaths}); the files and directories written
 * here are never writable by others ({@link Protection}).
 */
public final class MetricsTable {
    public static final String EPOCHS = "epochs";
    public static final String CLASSES = "classes";

    private final SparkSession spark;
    private final Path root;
    private final FileSystem fs;

    public MetricsTable(SparkSession spark, String location) {
        this.spark = spark;
        this.root = new Path(location);
        Configuration hc = spark.sparkContext().hadoopConfiguration();
        try {
            this.fs = root.getFileSystem(hc);
        } catch (IOException e) {
            throw UsageException.atLocation(location + ": cannot open the metrics location", e);
        }
    }

    public Path tablePath(String table) {
        return new Path(root, table);
    }

    /** Epochs already recorded for {@code runId} (0 when the run is new). */
    public int recordedEpochs(String runId) {
        try {
            return epochFiles(EPOCHS, runId).size();
        } catch (IOException e) {
            throw UsageException.atLocation(root + ": cannot list the metrics table", e);
        }
    }

    /**
     * The files of {@code runId}'s epochs in {@code table}, by epoch: exactly {@code <runId>-epoch-NNNN.parquet},
     * never another run's whose id starts the same way ({@code a} and {@code a-epoch-x}).
     */
    private java.util.Map<Integer, Path> epochFiles(String table, String runId) throws IOException {
        java.util.regex.Pattern name = java.util.regex.Pattern.compile(
                java.util.regex.Pattern.quote(runId) + "-epoch-(\\d{4,})\\.parquet");
        java.util.Map<Integer, Path> out = new java.util.TreeMap<>();
        for (FileStatus f : LiteralPaths.list(fs, tablePath(table), n -> name.matcher(n).matches())) {
            java.util.regex.Matcher m = name.matcher(f.getPath().getName());
            if (m.matches()) {
                out.put(Integer.parseInt(m.group(1)), f.getPath());
            }
        }
        return out;
    }

    /**
     * Before training: the location must be creatable and writable (so a bad --metrics fails now, not after the
     * first epoch), and the run id new, so a rerun never mixes its epochs with an earlier run's.
     */
    public void requireNewRun(String runId) {
        try {
            if (!Protection.mkdirs(fs, tablePath(EPOCHS)) || !Protection.mkdirs(fs, tablePath(CLASSES))) {
                throw new UsageException(root + ": cannot create the metrics tables there");
            }
        } catch (IOException e) {
            throw UsageException.atLocation(root + ": cannot create the metrics tables there", e);
        }
        requireWritable();
        int n = recordedEpochs(runId);
        if (n > 0) {
            throw new UsageException("run id '" + runId + "' already has " + n + " epoch(s) in " + tablePath(EPOCHS)
                    + "; choose another --run-id (or omit it to generate one)");
        }
    }

    /**
     * The tables can take new files: a probe file is created in each, and deleted. Existing tables on a read-only
     * filesystem, or in directories this user may not write, pass {@code mkdirs}; without this the run would train
     * its first epoch and fail recording it.
     */
    public void requireWritable() {
        for (String table : new String[]{EPOCHS, CLASSES}) {
            Path probe = new Path(tablePath(table), "_probe-" + UUID.randomUUID()); // hidden from readers
            try {
                fs.create(probe, false).close();
                fs.delete(probe, false);
            } catch (IOException e) {
                String where = root + ": cannot write the metrics tables there";
                RuntimeException refused = UsageException.atLocation(where, e);
                if (!(refused instanceof UsageException)) {
                    throw refused;
                }
                // "/m/epochs/_probe-... (Read-only file system)": the reason, without the probe's name
                String why = String.valueOf(e.getMessage()).replace(probe.toUri().getPath(), "").strip();
                throw new UsageException(where + ": " + (why.startsWith("(") && why.endsWith(")")
                        ? why.substring(1, why.length() - 1) : why));
            }
        }
    }

    /**
     * Removes the rows of {@code runId}'s epochs from {@code fromEpoch} on, in both tables: the rows of epochs a
     * resumed run trains again (they were published by a run that died before their checkpoint). Returns how many
     * epochs had rows.
     */
    public int supersede(String runId, int fromEpoch) {
        int removed = 0;
        try {
            for (String table : new String[]{EPOCHS, CLASSES}) {
                for (java.util.Map.Entry<Integer, Path> f : epochFiles(table, runId).entrySet()) {
                    if (f.getKey() >= fromEpoch) {
                        fs.delete(f.getValue(), false);
                        removed += table.equals(EPOCHS) ? 1 : 0;
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot remove the superseded rows of run " + runId + ": "
                    + e.getMessage(), e);
        }
        return removed;
    }

    /** True if {@code runId} has rows and all were written by the Spark application {@code appId}. */
    public boolean onlyWrittenBy(String runId, String appId) {
        if (recordedEpochs(runId) == 0) {
            return false;
        }
        return read(EPOCHS).where(org.apache.spark.sql.functions.col("run_id").equalTo(runId))
                .where(org.apache.spark.sql.functions.col("app_id").notEqual(appId)).isEmpty();
    }

    /** Appends one epoch: its epoch row, then its per-class rows. */
    public void appendEpoch(Row epochRow, List<Row> classRows, String runId, int epoch) {
        appendEpochSteps(epochRow, classRows, runId, epoch).forEach(Runnable::run);
    }

    /** {@link #appendEpoch}'s steps, to be run in order: each publishes one file, or nothing if it fails. */
    List<Runnable> appendEpochSteps(Row epochRow, List<Row> classRows, String runId, int epoch) {
        String file = String.format("%s-epoch-%04d.parquet", runId, epoch);
        return List.of(() -> publish(EPOCHS, MetricsSchema.EPOCHS, List.of(epochRow), file),
                () -> publish(CLASSES, MetricsSchema.CLASSES, classRows, file));
    }

    /**
     * Starts writing one throwaway row of each table's schema to a local temporary file on a daemon thread, and
     * deletes it. The first Parquet write of a JVM initialises Spark SQL's and Parquet's writer code and Snappy:
     * CPU work that otherwise lands on epoch 2's training threads. Started while the data load keeps one core busy
     * and leaves the others mostly idle.
     */
    public static void warmUpWriter(SparkSession spark) {
        io.github.sparkdropout.concurrent.DaemonTask.start("metrics-writer-warm-up", () -> {
            try {
                writeThrowawayFiles(spark);
            } catch (IOException | RuntimeException e) { // only a warm-up: the real write reports its own errors
                org.slf4j.LoggerFactory.getLogger(MetricsTable.class).debug("metrics writer warm-up failed", e);
            }
            return null;
        });
    }

    /** {@link #warmUpWriter}'s work, in the calling thread. */
    static void writeThrowawayFiles(SparkSession spark) throws IOException {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("sparkdropout-warm-up");
        try {
            for (StructType schema : List.of(MetricsSchema.EPOCHS, MetricsSchema.CLASSES)) {
                SparkInternals.writeParquetFile(spark, schema, List.of(placeholderRow(schema)),
                        new Path(dir.toUri().toString(), UUID.randomUUID() + ".parquet"));
            }
        } finally {
            FileSystem.getLocal(new Configuration()).delete(new Path(dir.toUri().toString()), true);
        }
    }

    /** A row of {@code schema}: zero, false, empty, or 1970-01-01 for every column. */
    private static Row placeholderRow(StructType schema) {
        Object[] values = new Object[schema.size()];
        for (int i = 0; i < values.length; i++) {
            org.apache.spark.sql.types.DataType type = schema.fields()[i].dataType();
            values[i] = type instanceof org.apache.spark.sql.types.IntegerType ? (Object) 0
                    : type instanceof org.apache.spark.sql.types.LongType ? (Object) 0L
                    : type instanceof org.apache.spark.sql.types.DoubleType ? (Object) 0.0
                    : type instanceof org.apache.spark.sql.types.BooleanType ? (Object) false
                    : type instanceof org.apache.spark.sql.types.StringType ? ""
                    : type instanceof org.apache.spark.sql.types.TimestampType ? new java.sql.Timestamp(0)
                    : type instanceof org.apache.spark.sql.types.ArrayType ? List.of()
                    : null;
        }
        return org.apache.spark.sql.RowFactory.create(values);
    }

    private void publish(String table, StructType schema, List<Row> rows, String fileName) {
        Path dir = tablePath(table);
        Path staged = new Path(dir, "_staging/" + UUID.randomUUID() + ".parquet");
        try {
            if (!Protection.mkdirs(fs, staged.getParent())) {
                throw new IOException("cannot create " + staged.getParent());
            }
            SparkInternals.writeParquetFile(spark, schema, rows, staged);
            fs.setPermission(staged, Protection.file(fs));
            Path target = new Path(dir, fileName);
            if (!fs.rename(staged, target)) {
                throw new IllegalStateException("could not publish " + target + " (does it exist already?)");
            }
        } catch (IOException e) {
            throw new IllegalStateException("writing " + dir + " failed: " + e.getMessage(), e);
        } catch (org.apache.hadoop.fs.FSError e) { // a failed local write (a full disk): an Error, not an IOException
            IOException cause = Renames.writeFailure(e);
            throw new IllegalStateException("writing " + dir + " failed: " + cause.getMessage(), cause);
        } finally {
            try {
                fs.delete(staged, false);
            } catch (IOException | org.apache.hadoop.fs.FSError ignored) {
                // a leftover staged file is invisible to readers (under _staging)
            }
        }
    }

    /** Where {@code predict --out} puts predictions so that {@code sql} finds them (view {@code predictions}). */
    public Path predictionsPath() {
        return new Path(root, "predictions");
    }

    /** Every prediction table under {@link #predictionsPath}, as one frame, if there is any. */
    public java.util.Optional<Dataset<Row>> readPredictions() {
        try {
            boolean any = false;
            // a hidden name (_x, .x) is a predict command's staging directory: Spark's readers skip it too
            for (FileStatus out : LiteralPaths.list(fs, predictionsPath(),
                    n -> !n.startsWith("_") && !n.startsWith("."))) {
                any |= out.isDirectory() && !LiteralPaths.list(fs, out.getPath(), n -> n.endsWith(".parquet"))
                        .isEmpty();
            }
            if (!any) {
                return java.util.Optional.empty();
            }
        } catch (IOException e) {
            throw UsageException.atLocation(predictionsPath() + ": cannot be listed", e);
        }
        return java.util.Optional.of(spark.read().option("recursiveFileLookup", "true")
                .parquet(LiteralPaths.asGlob(predictionsPath())));
    }

    /** The table as a DataFrame, or a one-line error if nothing has been recorded there yet. */
    public Dataset<Row> read(String table) {
        Path dir = tablePath(table);
        try {
            if (LiteralPaths.list(fs, dir, n -> n.endsWith(".parquet")).isEmpty()) {
                throw new UsageException("no metrics recorded in " + dir + " yet (run `submit.sh train` first, or"
                        + " pass --metrics)");
            }
        } catch (IOException e) {
            throw UsageException.atLocation(dir + ": cannot be listed", e);
        }
        StructType schema = EPOCHS.equals(table) ? MetricsSchema.EPOCHS : MetricsSchema.CLASSES;
        return spark.read().schema(schema).parquet(LiteralPaths.asGlob(dir));
    }
}
