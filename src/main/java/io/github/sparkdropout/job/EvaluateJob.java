package io.github.sparkdropout.job;

import io.github.sparkdropout.checkpoint.RunStore;
import io.github.sparkdropout.model.Nd4jBackends;
import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.data.FashionMnist;
import io.github.sparkdropout.data.MnistFrames;
import io.github.sparkdropout.data.Shards;
import io.github.sparkdropout.eval.EvalResult;
import io.github.sparkdropout.eval.TestEvaluation;
import io.github.sparkdropout.metrics.MetricsTable;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.dataset.DataSet;

import java.util.List;
import java.util.Map;

import static org.apache.spark.sql.functions.col;

/**
 * {@code evaluate}: a saved run's network after one epoch, evaluated on the test set through Spark exactly as the
 * run evaluated it (same data, same partitions, inference mode), so the accuracy equals the recorded one.
 */
public final class EvaluateJob {
    /**
     * The evaluation; whether its test files are the run's own (same SHA-256); and the test accuracy the run
     * recorded for that epoch (NaN if the table has no row).
     */
    public record Result(String runId, int epoch, String data, EvalResult eval, boolean runsOwnData,
                         double recordedTestAcc) {
    }

    private final SparkSession spark;

    public EvaluateJob(SparkSession spark) {
        this.spark = spark;
    }

    /**
     * @param epoch     null: the run's last saved epoch
     * @param overrides --data and --test-limit instead of the run's own
     */
    public Result run(String metrics, String runId, Integer epoch, Map<String, String> overrides) {
        Nd4jBackends.requireUsable();
        RunStore store = new RunStore(spark.sparkContext().hadoopConfiguration(), metrics);
        SavedRun saved = SavedRun.load(store, metrics, runId, epoch);
        String data = saved.setting(TrainConfig.DATA, overrides);
        FashionMnist.Split test = FashionMnist.test(data, saved.setting(TrainConfig.TEST_LIMIT, overrides),
                spark.sparkContext().hadoopConfiguration());
        boolean sameData = CheckpointState.Checksums.of(test).equals(saved.state().test());
        int workers = saved.setting(TrainConfig.WORKERS, Map.of());
        JavaRDD<DataSet> shards = Shards.of(MnistFrames.chunks(spark, test, Math.min(workers, test.count()), null),
                "test");
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<String> networkJson = jsc.broadcast(saved.network().getLayerWiseConfigurations().toJson());
        TestEvaluation evaluation = new TestEvaluation(jsc, networkJson, "evaluate-" + runId + "-" + saved.epoch(),
                saved.threadsPerWorker());
        try {
            EvalResult eval = evaluation.evaluate(saved.network(), shards, FashionMnist.CLASSES);
            return new Result(runId, saved.epoch(), data, eval, sameData, recordedTestAcc(metrics, runId,
                    saved.epoch()));
        } finally {
            evaluation.release();
            shards.unpersist(false);
            networkJson.destroy();
        }
    }

    private double recordedTestAcc(String metrics, String runId, int epoch) {
        MetricsTable table = new MetricsTable(spark, metrics);
        if (table.recordedEpochs(runId) == 0) {
            return Double.NaN;
        }
        List<Row> rows = table.read(MetricsTable.EPOCHS)
                .where(col("run_id").equalTo(runId).and(col("epoch").equalTo(epoch))).select("test_acc")
                .collectAsList();
        return rows.isEmpty() ? Double.NaN : rows.get(0).getDouble(0);
    }
}
