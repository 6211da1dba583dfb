package io.github.sparkdropout.metrics;

import io.github.sparkdropout.config.Param;
import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.data.FashionMnist;
import io.github.sparkdropout.eval.EvalResult;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.List;

/**
 * The two tables' schemas (documented in docs/METRICS.md) and the rows that fill them. Stable: columns are only
 * ever added, never renamed or retyped; readers match them by name.
 */
public final class MetricsSchema {
    private MetricsSchema() {
    }

    /** Table {@code epochs}: one row per (run_id, epoch). Read by column name, so old files stay readable. */
    public static final StructType EPOCHS = epochsSchema();

    private static StructType epochsSchema() {
        StructType t = new StructType()
                .add("run_id", DataTypes.StringType, false)
                .add("epoch", DataTypes.IntegerType, false)
                .add("train_loss", DataTypes.DoubleType, false)
                .add("train_acc", DataTypes.DoubleType, false)
                .add("test_acc", DataTypes.DoubleType, false)
                .add("train_seconds", DataTypes.DoubleType, false)
                .add("eval_seconds", DataTypes.DoubleType, false)
                .add("examples_per_second", DataTypes.DoubleType, false)
                .add("epoch_started_at", DataTypes.TimestampType, false)
                .add("epoch_ended_at", DataTypes.TimestampType, false);
        // the configuration: one column per recorded setting, generated from its declaration (nullable: a setting
        // added later is null in the rows written before it)
        for (Param<?> p : TrainConfig.PARAMS) {
            if (p.column() != null) {
                t = t.add(p.column(), sqlType(p.type()), true);
            }
        }
        return t.add("per_worker_batch_size", DataTypes.IntegerType, false)
                .add("master", DataTypes.StringType, false)
                // provenance
                .add("run_started_at", DataTypes.TimestampType, false)
                .add("executor_count", DataTypes.IntegerType, false)
                .add("app_id", DataTypes.StringType, false)
                .add("spark_version", DataTypes.StringType, false)
                .add("project_version", DataTypes.StringType, false)
                .add("git_commit", DataTypes.StringType, false)
                .add("data_official", DataTypes.BooleanType, false)
                .add("train_examples", DataTypes.IntegerType, false)
                .add("test_examples", DataTypes.IntegerType, false)
                .add("train_images_sha256", DataTypes.StringType, false)
                .add("train_labels_sha256", DataTypes.StringType, false)
                .add("test_images_sha256", DataTypes.StringType, false)
                .add("test_labels_sha256", DataTypes.StringType, false)
                .add("worker_busy_seconds", DataTypes.DoubleType, false);
    }

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
        TrainConfig c = run.config();
        List<Object> v = new ArrayList<>(List.of(run.runId(), e.epoch(), e.trainLoss(), e.trainAcc(), e.testAcc(),
                e.trainSeconds(), e.evalSeconds(), e.examplesPerSecond(), e.startedAt(), e.endedAt()));
        v.addAll(c.recordedValues().values());
        v.addAll(List.of(c.perWorkerBatchSize(), run.master(), run.startedAt(), run.executorCount(), run.appId(),
                run.sparkVersion(), run.projectVersion(), run.gitCommit(),
                run.train().official() && run.test().official(), run.train().count(), run.test().count(),
                run.train().imagesSha256(), run.train().labelsSha256(), run.test().imagesSha256(),
                run.test().labelsSha256(), e.workerBusySeconds()));
        return RowFactory.create(v.toArray());
    }

    public static List<Row> classRows(String runId, int epoch, EvalResult eval) {
        List<Row> rows = new ArrayList<>();
        for (int c = 0; c < eval.support().length; c++) {
            Long[] counts = new Long[eval.confusion()[c].length];
            for (int j = 0; j < counts.length; j++) {
                counts[j] = eval.confusion()[c][j];
            }
            rows.add(RowFactory.create(runId, epoch, c, FashionMnist.CLASS_NAMES.get(c), eval.precision()[c],
                    eval.recall()[c], eval.f1()[c], eval.support()[c], counts));
        }
        return rows;
    }
}
