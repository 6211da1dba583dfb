package io.github.sparkdropout.job;

import io.github.sparkdropout.checkpoint.RunStore;
import io.github.sparkdropout.config.UsageException;
import io.github.sparkdropout.metrics.MetricsTable;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

import java.io.PrintStream;

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

    /**
     * Run {@code runId} already has its {@code epochs} (a resume with nothing to train): rows of later epochs, left
     * by a continuation that stopped, are dropped, and model.zip is made the network of the last checkpoint.
     */
    void settleFinished(String runId, int epochs, MultiLayerNetwork last, PrintStream out) {
        table.supersede(runId, epochs + 1);
        if (store.publishModelUnlessCurrent(runId, last)) {
            out.printf("model.zip of run %s was not the network of its last checkpoint (epoch %d): replaced by it%n",
                    runId, epochs);
        }
        out.printf("run %s already has its %d epochs; nothing to train (--epochs N > %d trains it further)%n"
                + "model: %s%n", runId, epochs, epochs, store.modelPath(runId));
    }
}
