package io.github.sparkdropout.eval;

import io.github.sparkdropout.model.LeanInference;
import io.github.sparkdropout.model.ParamVectors;
import io.github.sparkdropout.replica.ReplicaCache;
import io.github.sparkdropout.replica.ReplicaKey;
import io.github.sparkdropout.train.transport.EpochEndTask;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.dataset.DataSet;

import java.util.Collections;
import java.util.List;

/**
 * Distributed evaluation on the test shards in inference mode (no dropout): each executor predicts its shard with
 * a cached replica set to the current parameters and counts it into ND4J's {@link Evaluation} (a confusion
 * matrix with per-class precision/recall/F1, what DL4J's own {@code SparkDl4jMultiLayer.evaluate} uses); the
 * partitions' evaluations are merged in one Spark job.
 *
 * <p>Not Spark MLlib's {@code MulticlassMetrics} on the collected (prediction, label) pairs: its shuffles make
 * evaluation cost about as much as training an epoch.
 */
public final class TestEvaluation {
    private final JavaSparkContext sc;
    private final Broadcast<String> networkJson;
    private final String replicaOwner;
    private final int threads;

    /**
     * @param networkJson the network's configuration, broadcast (the executors rebuild replicas from it)
     * @param runKey      names this evaluation's cached replicas
     * @param threads     native threads per task
     */
    public TestEvaluation(JavaSparkContext sc, Broadcast<String> networkJson, String runKey, int threads) {
        this.sc = sc;
        this.networkJson = networkJson;
        this.replicaOwner = runKey + "/eval";
        this.threads = threads;
    }

    /** Drops this evaluation's replicas from the driver JVM's cache (executors drop theirs by LRU). */
    public void release() {
        ReplicaCache.evict(replicaOwner);
    }

    /** Evaluates {@code net}'s current parameters on {@code testShards}. */
    public EvalResult evaluate(MultiLayerNetwork net, JavaRDD<DataSet> testShards, int classes) {
        Broadcast<float[]> params = sc.broadcast(ParamVectors.get(net));
        try {
            return fromEvaluation(predictAndCount(testShards, params, classes), classes);
        } finally {
            params.destroy();
        }
    }

    private Evaluation predictAndCount(JavaRDD<DataSet> testShards, Broadcast<float[]> params, int classes) {
        Broadcast<String> conf = networkJson;
        String owner = replicaOwner;
        int nativeThreads = threads;
        return testShards.mapPartitionsWithIndex((partition, it) -> {
            if (!it.hasNext()) {
                return Collections.<Evaluation>emptyIterator();
            }
            DataSet shard = it.next();
            MultiLayerNetwork replica = ReplicaCache.acquire(ReplicaKey.of(owner, partition), conf.value(), params.value(),
                    nativeThreads).net();
            return Collections.singletonList(evaluateShard(replica, shard, classes)).iterator();
        }, true).reduce((x, y) -> {
            x.merge(y);
            return x;
        });
    }

    /** One partition's count: {@code net}'s predictions (inference mode) on {@code shard} against its labels. */
    static Evaluation evaluateShard(MultiLayerNetwork net, DataSet shard, int classes) {
        Evaluation e = new Evaluation(classes);
        // the scorer's probabilities (DL4J's output, bit for bit): Evaluation counts each row's most probable class,
        // the scorer's prediction
        e.eval(shard.getLabels(), LeanInference.output(net, shard.getFeatures()));
        return e;
    }

    /**
     * The same evaluation as {@link #evaluate}, done by the training's own barrier tasks at the end of the epoch
     * (each on its replica, which holds the epoch's final parameters, and its test shard): no Spark job, no
     * broadcast of the parameters.
     */
    public static EpochEndTask inTraining(int classes) {
        return (net, shard) -> evaluateShard(net, shard, classes);
    }

    /**
     * The evaluation of {@link #inTraining}'s results (one {@link Evaluation} per partition, merged in order; null
     * for a partition without test examples).
     */
    public static EvalResult merge(List<? extends java.io.Serializable> partitions, int classes) {
        Evaluation all = null;
        for (java.io.Serializable p : partitions) {
            if (p == null) {
                continue; // a partition without test examples
            }
            if (!(p instanceof Evaluation e)) {
                throw new IllegalStateException("a partition returned no evaluation: " + p);
            }
            if (all == null) {
                all = e;
            } else {
                all.merge(e);
            }
        }
        if (all == null) {
            throw new IllegalStateException("no test examples to evaluate");
        }
        return fromEvaluation(all, classes);
    }

    /**
     * Accuracy, per-class precision/recall/F1/support and the confusion matrix (rows: true label, columns:
     * prediction). A 0/0 precision or recall (a class never predicted, or never the true label) is reported as 0,
     * and so is the F1 of a class whose precision or recall is undefined.
     */
    public static EvalResult fromEvaluation(Evaluation e, int classes) {
        long[][] confusion = new long[classes][classes];
        double[] precision = new double[classes];
        double[] recall = new double[classes];
        double[] f1 = new double[classes];
        long[] support = new long[classes];
        for (int c = 0; c < classes; c++) {
            for (int j = 0; j < classes; j++) {
                confusion[c][j] = e.getConfusionMatrix().getCount(c, j);
                support[c] += confusion[c][j];
            }
            precision[c] = e.precision(c);
            recall[c] = e.recall(c);
            f1[c] = e.f1(c);
        }
        return new EvalResult(e.accuracy(), e.getNumRowCounter(), precision, recall, f1, support, confusion);
    }
}
