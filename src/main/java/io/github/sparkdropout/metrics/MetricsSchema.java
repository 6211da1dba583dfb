package io.github.sparkdropout.metrics;

import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.data.FashionMnist;
import io.github.sparkdropout.eval.EvalResult;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.List;

/**
 * The two tables' schemas (documented in docs/METRICS.md) and the rows that fill them. Append-only and stable:
 * new columns go at the end.
 */
public final class MetricsSchema {
    private MetricsSchema() {
    }

    /** Table {@code epochs}: one row per (run_id, epoch). */
    public static final StructType EPOCHS = new StructType()
            .add("run_id", DataTypes.StringType, false)
            .add("epoch", DataTypes.IntegerType, false)
            .add("train_loss", DataTypes.DoubleType, false)
            .add("train_acc", DataTypes.DoubleType, false)
            .add("test_acc", DataTypes.DoubleType, false)
            .add("train_seconds", DataTypes.DoubleType, false)
            .add("eval_seconds", DataTypes.DoubleType, false)
            .add("examples_per_second", DataTypes.DoubleType, false)
            .add("epoch_started_at", DataTypes.TimestampType, false)
            .add("epoch_ended_at", DataTypes.TimestampType, false)
            // configuration
            .add("variant", DataTypes.StringType, false)
            .add("epochs", DataTypes.IntegerType, false)
            .add("workers", DataTypes.IntegerType, false)
            .add("batch_size", DataTypes.IntegerType, false)
            .add("per_worker_batch_size", DataTypes.IntegerType, false)
            .add("averaging_frequency", DataTypes.IntegerType, false)
            .add("lr", DataTypes.DoubleType, false)
            .add("dropout1", DataTypes.DoubleType, false)
            .add("dropout2", DataTypes.DoubleType, false)
            .add("seed", DataTypes.LongType, false)
            .add("training_master", DataTypes.StringType, false)
            .add("step", DataTypes.StringType, false)
            .add("master", DataTypes.StringType, false)
            // provenance
            .add("run_started_at", DataTypes.TimestampType, false)
            .add("executor_count", DataTypes.IntegerType, false)
            .add("app_id", DataTypes.StringType, false)
            .add("spark_version", DataTypes.StringType, false)
            .add("project_version", DataTypes.StringType, false)
            .add("git_commit", DataTypes.StringType, false)
            .add("data_source", DataTypes.StringType, false)
            .add("data_official", DataTypes.BooleanType, false)
            .add("train_examples", DataTypes.IntegerType, false)
            .add("test_examples", DataTypes.IntegerType, false)
            .add("train_images_sha256", DataTypes.StringType, false)
            .add("train_labels_sha256", DataTypes.StringType, false)
            .add("test_images_sha256", DataTypes.StringType, false)
            .add("test_labels_sha256", DataTypes.StringType, false)
            .add("worker_busy_seconds", DataTypes.DoubleType, false)
            // added in 0.1.0 after the first tables: null in rows written before it
            .add("averaging_sync", DataTypes.StringType, true);

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
        return RowFactory.create(run.runId(), e.epoch(), e.trainLoss(), e.trainAcc(), e.testAcc(),
                e.trainSeconds(), e.evalSeconds(), e.examplesPerSecond(), e.startedAt(), e.endedAt(),
                c.variantName(), c.epochs(), c.workers(), c.batchSize(), c.perWorkerBatchSize(),
                c.averagingFrequency(), c.lr(), c.dropout1(), c.dropout2(), c.seed(), run.trainingMasterName(),
                c.trainingMaster() == io.github.sparkdropout.train.TrainingMasterKind.STOCK ? "dl4j"
                        : c.step().name().toLowerCase(java.util.Locale.ROOT),
                run.master(), run.startedAt(), run.executorCount(), run.appId(), run.sparkVersion(),
                run.projectVersion(), run.gitCommit(), c.data(), run.train().official() && run.test().official(),
                run.train().count(), run.test().count(), run.train().imagesSha256(), run.train().labelsSha256(),
                run.test().imagesSha256(), run.test().labelsSha256(), e.workerBusySeconds(),
                c.averagingSync().name().toLowerCase(java.util.Locale.ROOT));
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
