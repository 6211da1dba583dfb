package io.github.sparkdropout.metrics;

import io.github.sparkdropout.config.Setting;
import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.eval.EvalResult;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;

/**
 * The two tables' schemas (documented in docs/METRICS.md) and the rows that fill them. Stable: columns are only
 * ever added, never renamed or retyped; readers match them by name.
 */
public final class MetricsSchema {
    private MetricsSchema() {
    }

    /** One column of the epochs table: declared once, its value drawn from the run and the epoch. */
    private record Column(String name, DataType type, boolean nullable, BiFunction<RunInfo, EpochRecord, Object> value) {
    }

    private static Column col(String name, DataType type, BiFunction<RunInfo, EpochRecord, Object> value) {
        return new Column(name, type, false, value);
    }

    /** Added after the first tables: null in rows written before them. */
    private static Column added(String name, DataType type, BiFunction<RunInfo, EpochRecord, Object> value) {
        return new Column(name, type, true, value);
    }

    private static final List<Column> COLUMNS = columns();

    private static List<Column> columns() {
        DataType str = DataTypes.StringType;
        DataType i32 = DataTypes.IntegerType;
        DataType f64 = DataTypes.DoubleType;
        DataType ts = DataTypes.TimestampType;
        List<Column> c = new ArrayList<>(List.of(
                col("run_id", str, (r, e) -> r.runId()),
                col("epoch", i32, (r, e) -> e.epoch()),
                col("train_loss", f64, (r, e) -> e.trainLoss()),
                col("train_acc", f64, (r, e) -> e.trainAcc()),
                col("test_acc", f64, (r, e) -> e.testAcc()),
                col("train_seconds", f64, (r, e) -> e.trainSeconds()),
                col("eval_seconds", f64, (r, e) -> e.evalSeconds()),
                col("examples_per_second", f64, (r, e) -> e.examplesPerSecond()),
                col("epoch_started_at", ts, (r, e) -> e.startedAt()),
                col("epoch_ended_at", ts, (r, e) -> e.endedAt())));
        // the configuration: one column per recorded setting, generated from its declaration (nullable: a setting
        // added later is null in the rows written before it)
        for (Setting<?> p : TrainConfig.SETTINGS) {
            if (p.column() != null) {
                c.add(added(p.column(), sqlType(p.type()), (r, e) -> r.config().recordedValues().get(p.column())));
            }
        }
        // the columns of the settings --dropouts replaced, kept for the queries written against them: the drop
        // probabilities after hidden layers 1 and 2 (null where the network has fewer)
        for (int hidden = 0; hidden < 2; hidden++) {
            int h = hidden;
            c.add(added("dropout" + (h + 1), f64, (r, e) -> h < r.config().dropouts().length
                    ? r.config().dropouts()[h] : null));
        }
        c.addAll(List.of(
                col("per_worker_batch_size", i32, (r, e) -> r.config().perWorkerBatchSize()),
                col("master", str, (r, e) -> r.master()),
                // provenance
                col("run_started_at", ts, (r, e) -> r.startedAt()),
                col("executor_count", i32, (r, e) -> r.executorCount()),
                col("app_id", str, (r, e) -> r.appId()),
                col("spark_version", str, (r, e) -> r.sparkVersion()),
                col("project_version", str, (r, e) -> r.projectVersion()),
                col("git_commit", str, (r, e) -> r.gitCommit()),
                col("data_official", DataTypes.BooleanType, (r, e) -> r.train().official() && r.test().official()),
                col("train_examples", i32, (r, e) -> r.train().count()),
                col("test_examples", i32, (r, e) -> r.test().count()),
                col("train_images_sha256", str, (r, e) -> r.train().imagesSha256()),
                col("train_labels_sha256", str, (r, e) -> r.train().labelsSha256()),
                col("test_images_sha256", str, (r, e) -> r.test().imagesSha256()),
                col("test_labels_sha256", str, (r, e) -> r.test().labelsSha256()),
                col("worker_busy_seconds", f64, (r, e) -> e.workerBusySeconds()),
                added("checkpoint_path", str, (r, e) -> e.checkpointPath()),
                added("model_path", str, (r, e) -> r.modelPath())));
        return List.copyOf(c);
    }

    /** Table {@code epochs}: one row per (run_id, epoch). Read by column name, so old files stay readable. */
    public static final StructType EPOCHS = new StructType(COLUMNS.stream()
            .map(c -> DataTypes.createStructField(c.name(), c.type(), c.nullable())).toArray(StructField[]::new));

    private static DataType sqlType(Class<?> type) {
        if (type == Integer.class) {
            return DataTypes.IntegerType;
        }
        if (type == Long.class) {
            return DataTypes.LongType;
        }
        if (type == Double.class) {
            return DataTypes.DoubleType;
        }
        if (type == String.class || type.isEnum()) {
            return DataTypes.StringType;
        }
        if (type == int[].class) {
            return DataTypes.createArrayType(DataTypes.IntegerType, false);
        }
        if (type == double[].class) {
            return DataTypes.createArrayType(DataTypes.DoubleType, false);
        }
        throw new IllegalArgumentException("no column type for settings of " + type);
    }

    /** Table {@code classes}: one row per (run_id, epoch, label) from the test evaluation. */
    public static final StructType CLASSES = new StructType()
            .add("run_id", DataTypes.StringType, false)
            .add("epoch", DataTypes.IntegerType, false)
            .add("label", DataTypes.IntegerType, false)
            .add("class_name", DataTypes.StringType, false)
            .add("precision", DataTypes.DoubleType, false)
            .add("recall", DataTypes.DoubleType, false)
            .add("f1", DataTypes.DoubleType, false)
            .add("support", DataTypes.LongType, false)
            // row of the confusion matrix: how this class's test examples were predicted, by predicted label
            .add("predicted_counts", DataTypes.createArrayType(DataTypes.LongType, false), false);

    public static Row epochRow(RunInfo run, EpochRecord e) {
        return RowFactory.create(COLUMNS.stream().map(c -> c.value().apply(run, e)).toArray());
    }

    /** The classes table's rows of one epoch's evaluation; {@code classNames} by label. */
    public static List<Row> classRows(String runId, int epoch, EvalResult eval, List<String> classNames) {
        List<Row> rows = new ArrayList<>();
        for (int c = 0; c < eval.support().length; c++) {
            Long[] counts = new Long[eval.confusion()[c].length];
            for (int j = 0; j < counts.length; j++) {
                counts[j] = eval.confusion()[c][j];
            }
            rows.add(RowFactory.create(runId, epoch, c, classNames.get(c), eval.precision()[c],
                    eval.recall()[c], eval.f1()[c], eval.support()[c], counts));
        }
        return rows;
    }
}
