package io.github.sparkdropout.train;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.core.loader.DataSetLoader;
import org.deeplearning4j.core.loader.MultiDataSetLoader;
import org.deeplearning4j.core.storage.StatsStorageRouter;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.deeplearning4j.spark.api.TrainingHook;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.api.TrainingResult;
import org.deeplearning4j.spark.api.TrainingWorker;
import org.deeplearning4j.spark.api.stats.SparkTrainingStats;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

import java.io.Serializable;
import java.util.Collection;

/**
 * The parts of DL4J's {@link TrainingMaster} interface a master that trains a {@code MultiLayerNetwork} from an
 * in-memory RDD does not use (graphs, paths, hooks, DL4J's own workers and statistics): refused here, out of the
 * way of the master's own logic.
 */
abstract class TrainingMasterDefaults implements TrainingMaster<TrainingResult, TrainingWorker<TrainingResult>>,
        Serializable {
    private static final long serialVersionUID = 1L;

    private UnsupportedOperationException unsupported(String what) {
        return new UnsupportedOperationException(getClass().getSimpleName() + " does not support " + what);
    }

    @Override
    public void executeTrainingPaths(SparkDl4jMultiLayer network, SparkComputationGraph graph,
                                     JavaRDD<String> paths, DataSetLoader dsLoader, MultiDataSetLoader mdsLoader) {
        throw unsupported("training from paths");
    }

    @Override
    public void executeTraining(SparkComputationGraph graph, JavaRDD<DataSet> trainingData) {
        throw unsupported("ComputationGraphs");
    }

    @Override
    public void executeTrainingMDS(SparkComputationGraph graph, JavaRDD<MultiDataSet> trainingData) {
        throw unsupported("ComputationGraphs");
    }

    @Override
    public TrainingWorker<TrainingResult> getWorkerInstance(SparkDl4jMultiLayer network) {
        throw unsupported("DL4J training workers (its workers are its own)");
    }

    @Override
    public TrainingWorker<TrainingResult> getWorkerInstance(SparkComputationGraph graph) {
        throw unsupported("ComputationGraphs");
    }

    @Override
    public void removeHook(TrainingHook trainingHook) {
        throw unsupported("training hooks");
    }

    @Override
    public void addHook(TrainingHook trainingHook) {
        throw unsupported("training hooks");
    }

    @Override
    public void setCollectTrainingStats(boolean collectTrainingStats) {
        if (collectTrainingStats) {
            throw unsupported("DL4J's training stats (it records its own per-epoch statistics)");
        }
    }

    @Override
    public boolean getIsCollectTrainingStats() {
        return false;
    }

    @Override
    public SparkTrainingStats getTrainingStats() {
        return null;
    }

    @Override
    public void setListeners(Collection<TrainingListener> listeners) {
        throw unsupported("extra training listeners");
    }

    @Override
    public void setListeners(StatsStorageRouter router, Collection<TrainingListener> listeners) {
        setListeners(listeners);
    }

    @Override
    public boolean deleteTempFiles(JavaSparkContext sc) {
        return true; // nothing is written to disk
    }

    @Override
    public boolean deleteTempFiles(org.apache.spark.SparkContext sc) {
        return true;
    }
}
