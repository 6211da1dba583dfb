package io.github.sparkdropout.eval;

import io.github.sparkdropout.train.NativeThreads;
import io.github.sparkdropout.train.ReplicaCache;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.mllib.evaluation.MulticlassMetrics;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import scala.Tuple2;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Distributed evaluation on the test shards in inference mode (no dropout): each executor predicts its shard with
 * a cached replica set to the current parameters; Spark MLlib's {@link MulticlassMetrics} turns the
 * (prediction, label) DataFrame into accuracy, per-class precision/recall/F1 and the confusion matrix.
 */
public final class TestEvaluation {
    public static final StructType PREDICTIONS = new StructType()
            .add("prediction", DataTypes.DoubleType, false)
            .add("label", DataTypes.DoubleType, false);

    private final SparkSession spark;
    private final Broadcast<String> confJson;
    private final String replicaKey;
    private final int threads;

    public TestEvaluation(SparkSession spark, MultiLayerNetwork net, String runKey, int threads) {
        this.spark = spark;
        this.confJson = JavaSparkContext.fromSparkContext(spark.sparkContext())
                .broadcast(net.getLayerWiseConfigurations().toJson());
        this.replicaKey = runKey + "/eval/";
        this.threads = threads;
    }

    /** Drops this evaluation's replicas from the driver JVM's cache (executors drop theirs by LRU). */
    public void release() {
        ReplicaCache.evict(replicaKey);
    }

    /** Evaluates {@code net}'s current parameters on {@code testShards}. */
    public EvalResult evaluate(MultiLayerNetwork net, JavaRDD<DataSet> testShards, int classes) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<float[]> params = sc.broadcast(net.params().toFloatVector());
        Broadcast<String> conf = confJson;
        String key = replicaKey;
        int nativeThreads = threads;
        JavaRDD<Tuple2<Double, Double>> predictions = testShards.mapPartitionsWithIndex((partition, it) -> {
            if (!it.hasNext()) {
                return Collections.emptyIterator();
            }
            DataSet shard = it.next();
            NativeThreads.limit(nativeThreads);
            MultiLayerNetwork replica = ReplicaCache.get(key + partition, conf.value()).net();
            float[] p = params.value();
            replica.setParams(Nd4j.create(p, new long[]{1, p.length}, 'c'));
            INDArray predicted = replica.output(shard.getFeatures(), false).argMax(1);
            INDArray actual = shard.getLabels().argMax(1);
            List<Tuple2<Double, Double>> pairs = new ArrayList<>(shard.numExamples());
            for (int i = 0; i < shard.numExamples(); i++) {
                pairs.add(new Tuple2<>((double) predicted.getInt(i), (double) actual.getInt(i)));
            }
            return pairs.iterator();
        }, true);
        try {
            // 10,000 small rows: collected once, then a local DataFrame (no further job over the test shards)
            // 10,000 small pairs: collected once, and MLlib works on a local copy (not a second pass over the shards,
            // and not through a DataFrame: its Catalyst code generation cost 3.7 s on the first epoch here)
            return fromPairs(sc.parallelize(predictions.collect(), 1), classes);
        } finally {
            params.destroy();
        }
    }

    /** Accuracy, per-class precision/recall/F1/support and the confusion matrix of a (prediction, label) frame. */
    public static EvalResult fromPredictions(Dataset<Row> predictionFrame, int classes) {
        return fromPairs(predictionFrame.select("prediction", "label").javaRDD()
                .map(r -> new Tuple2<>(r.getDouble(0), r.getDouble(1))), classes);
    }

    /** The same from (prediction, label) pairs, through Spark MLlib's {@link MulticlassMetrics}. */
    public static EvalResult fromPairs(JavaRDD<Tuple2<Double, Double>> predictionAndLabel, int classes) {
        JavaRDD<Tuple2<Double, Double>> pairs = predictionAndLabel.cache();
        try {
            MulticlassMetrics metrics = new MulticlassMetrics(pairs.rdd());
            // Counted here rather than read off metrics.confusionMatrix(), whose rows and columns cover only the
            // labels that occur as true labels: a class that is predicted but never the true label would vanish.
            long[][] confusion = new long[classes][classes];
            for (java.util.Map.Entry<Tuple2<Double, Double>, Long> e : pairs.countByValue().entrySet()) {
                confusion[e.getKey()._2().intValue()][e.getKey()._1().intValue()] = e.getValue();
            }
            double[] precision = new double[classes];
            double[] recall = new double[classes];
            double[] f1 = new double[classes];
            long[] support = new long[classes];
            for (int c = 0; c < classes; c++) {
                long predicted = 0;
                for (int j = 0; j < classes; j++) {
                    support[c] += confusion[c][j];
                    predicted += confusion[j][c];
                }
                // Undefined (0/0) or absent from MLlib's per-label maps when a class is never predicted or never the
                // true label: then there is no true positive, and we report 0.
                precision[c] = predicted == 0 || support[c] == 0 ? 0.0 : metrics.precision(c);
                recall[c] = support[c] == 0 ? 0.0 : metrics.recall(c);
                double pr = precision[c] + recall[c];
                f1[c] = pr == 0 ? 0.0 : metrics.fMeasure(c);
            }
            long examples = 0;
            for (long n : support) {
                examples += n;
            }
            return new EvalResult(metrics.accuracy(), examples, precision, recall, f1, support, confusion);
        } finally {
            pairs.unpersist(false);
        }
    }
}
