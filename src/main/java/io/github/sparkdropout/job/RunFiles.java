package io.github.sparkdropout.job;

import io.github.sparkdropout.checkpoint.RunStore;
import io.github.sparkdropout.config.UsageException;
import io.github.sparkdropout.metrics.MetricsTable;
import org.apache.spark.sql.SparkSession;

/** Where runs are recorded under one metrics location: the metrics tables and the saved networks. */
record RunFiles(MetricsTable table, RunStore store) {
    static RunFiles open(SparkSession spark, String metrics) {
        return new RunFiles(new MetricsTable(spark, metrics), new RunStore(spark.sparkContext().hadoopConfiguration(),
                metrics));
    }

    /** A new run's id must be unused: no rows in the table, no checkpoints. */
    void requireNewRun(String runId) {
        table.requireNewRun(runId);
        if (store.lastCheckpoint(runId).isPresent()) {
            throw new UsageException("run id '" + runId + "' already has saved checkpoints in "
                    + store.checkpointPath(runId, 1).getParent() + "; choose another --run-id (or omit it to"
                    + " generate one)");
        }
    }
}
