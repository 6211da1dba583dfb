package io.github.sparkdropout.ml;

import io.github.sparkdropout.checkpoint.RunStore;
import io.github.sparkdropout.data.DataException;
import io.github.sparkdropout.data.FeatureRange;
import io.github.sparkdropout.fs.LiteralPaths;
import io.github.sparkdropout.model.DropoutMlp;
import io.github.sparkdropout.model.LeanInference;
import io.github.sparkdropout.model.ParamVectors;
import io.github.sparkdropout.replica.ReplicaCache;
import io.github.sparkdropout.replica.ReplicaKey;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.linalg.DenseVector;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReadable;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * A trained dropout MLP as a Spark ML {@link Model}: {@link #transform} adds the prediction (the class, a double),
 * the class probabilities and the raw prediction (the output layer's logits) to every row, computed on the executors
 * in batches, of a batch or a streaming frame alike (a Dataset operation: Structured Streaming runs it on each
 * micro-batch). Features are checked as every scorer here checks them: a vector of {@link #numFeatures} finite values,
 * else the transform fails with one line naming the column. Values outside the range of the training rows (per
 * feature) are scored, as MLlib's models score whatever they get (a test set scaled by a scaler fitted on the
 * training set strays a little outside), and flagged in {@code featuresOutOfRangeCol}: the network never saw such
 * values. Labels are not read. Saved with {@link #write} (Spark ML's params metadata, the network as the very DL4J
 * zip {@code ./submit.sh train} writes, under {@code data/network.zip}, and the training range under
 * {@code data/featureRange}) and read with {@link #load}, on any Hadoop filesystem; {@link #load} also takes a DL4J
 * zip the job saved ({@code models/RUN/model.zip}, a checkpoint), whose range is Fashion-MNIST's [0, 1].
 */
public final class DropoutMlpModel extends Model<DropoutMlpModel> implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;
    private static final String NETWORK = "data/network.zip";
    private static final String RANGE = "data/featureRange";
    private static final int BATCH = 1024;

    private final String uid;
    private final ColumnParams columns;
    private transient MultiLayerNetwork network; // the driver's copy; executors rebuild it from a broadcast
    private FeatureRange trainedRange; // per feature, the training rows' smallest and largest value

    /** For Spark ML's reader and copies; {@link #load} and fits set the network. */
    public DropoutMlpModel(String uid) {
        this.uid = uid;
        this.columns = new ColumnParams(uid);
        columns.setDefaults(this::setDefaultValue);
    }

    /** A model of {@code network}, trained on features in {@code trainedRange}. */
    DropoutMlpModel(String uid, MultiLayerNetwork network, FeatureRange trainedRange) {
        this(uid);
        this.network = DropoutMlp.portable(network);
        if (trainedRange.size() != LeanInference.inputs(network)) {
            throw new IllegalArgumentException("a range of " + trainedRange.size() + " features for a network of "
                    + LeanInference.inputs(network) + " inputs");
        }
        this.trainedRange = trainedRange;
    }

    /** A model of a network the job trained on Fashion-MNIST (its features, scaled pixels, lie in [0, 1]). */
    static DropoutMlpModel ofJobNetwork(String uid, MultiLayerNetwork network) {
        return new DropoutMlpModel(uid, network, FeatureRange.unit(LeanInference.inputs(network)));
    }

    private void setDefaultValue(Param<String> p, String value) {
        setDefault(p, value);
    }

    @Override
    public String uid() {
        return uid;
    }

    /** The trained network (DL4J's own classes only: it loads anywhere DL4J runs). */
    public MultiLayerNetwork network() {
        if (network == null) {
            throw new IllegalStateException("model " + uid + " has no network (built by hand, not by fit or load)");
        }
        return network;
    }

    public Param<String> featuresCol() { return columns.featuresCol; }
    public Param<String> predictionCol() { return columns.predictionCol; }
    public Param<String> probabilityCol() { return columns.probabilityCol; }
    public Param<String> rawPredictionCol() { return columns.rawPredictionCol; }
    public Param<String> featuresOutOfRangeCol() { return columns.featuresOutOfRangeCol; }

    public DropoutMlpModel setFeaturesCol(String v) { set(featuresCol(), v); return this; }
    public DropoutMlpModel setPredictionCol(String v) { set(predictionCol(), v); return this; }
    public DropoutMlpModel setProbabilityCol(String v) { set(probabilityCol(), v); return this; }
    public DropoutMlpModel setRawPredictionCol(String v) { set(rawPredictionCol(), v); return this; }
    public DropoutMlpModel setFeaturesOutOfRangeCol(String v) { set(featuresOutOfRangeCol(), v); return this; }

    /** The number of classes the network scores: its output layer's size. */
    public int numClasses() {
        return LeanInference.classes(network());
    }

    /** The size of the feature vectors the network takes: its input layer's size. */
    public int numFeatures() {
        return LeanInference.inputs(network());
    }

    /** Per feature, the smallest and largest value of the rows the network was trained on. */
    public FeatureRange trainedRange() {
        return trainedRange;
    }

    @Override
    public StructType transformSchema(StructType schema) {
        return ColumnParams.withOutputs(schema, getOrDefault(featuresCol()), getOrDefault(rawPredictionCol()),
                getOrDefault(probabilityCol()), getOrDefault(predictionCol()), getOrDefault(featuresOutOfRangeCol()));
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType out = transformSchema(dataset.schema());
        SparkSession spark = dataset.sparkSession();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        // left to Spark's ContextCleaner once the returned frame is gone: the frame may be used long after this call
        Broadcast<String> json = jsc.broadcast(network().getLayerWiseConfigurations().toJson());
        Broadcast<float[]> params = jsc.broadcast(ParamVectors.get(network()));
        Scorer scorer = new Scorer(uid, json, params, trainedRange, dataset.schema().fieldIndex(getOrDefault(featuresCol())),
                getOrDefault(featuresCol()), !getOrDefault(rawPredictionCol()).isEmpty(),
                !getOrDefault(probabilityCol()).isEmpty(), !getOrDefault(predictionCol()).isEmpty(),
                !getOrDefault(featuresOutOfRangeCol()).isEmpty());
        // a Dataset operation, not an RDD: a streaming frame (Structured Streaming) is scored as a batch one is
        return dataset.toDF().mapPartitions(scorer, Encoders.row(out));
    }

    /** A partition's rows, scored in batches by a replica of the network in the executor. */
    private record Scorer(String uid, Broadcast<String> json, Broadcast<float[]> params, FeatureRange range,
                          int featuresIndex,
                          String featuresCol, boolean raw, boolean probability, boolean prediction,
                          boolean outOfRange)
            implements MapPartitionsFunction<Row, Row>, Serializable {
        @Override
        public Iterator<Row> call(Iterator<Row> input) {
            MultiLayerNetwork net = ReplicaCache.acquire(replicaKey(), json.value(), params.value(), 1).net();
            float[] x = new float[BATCH * range.size()];
            List<Row> batch = new ArrayList<>(BATCH);
            return new Iterator<>() { // batch by batch: a partition's output is never all in memory at once
                private Iterator<Row> scored = java.util.Collections.emptyIterator();

                @Override
                public boolean hasNext() {
                    while (!scored.hasNext() && input.hasNext()) {
                        batch.clear();
                        while (batch.size() < BATCH && input.hasNext()) {
                            batch.add(input.next());
                        }
                        scored = score(net, batch, x).iterator();
                    }
                    return scored.hasNext();
                }

                @Override
                public Row next() {
                    if (!hasNext()) {
                        throw new java.util.NoSuchElementException();
                    }
                    return scored.next();
                }
            };
        }

        /**
         * The replica for this transform (its parameters' broadcast: every model of one estimator has the
         * estimator's uid) on the executor thread running the task: a thread runs one task at a time, so no two
         * tasks share a replica, even when two jobs compute the frame at once, and every later task on the thread
         * reuses it. The frame is lazy and may be computed again at any time, so there is no point after which its
         * replicas are known to be unused: they are left to the cache's LRU bound.
         */
        private ReplicaKey replicaKey() {
            return ReplicaKey.of("model-" + uid + "-" + params.id(), Thread.currentThread().getId());
        }

        private List<Row> score(MultiLayerNetwork net, List<Row> batch, float[] x) {
            int n = batch.size();
            boolean[] outside = new boolean[n];
            int size = range.size();
            for (int i = 0; i < n; i++) {
                LeanInference.putFeatures(batch.get(i).get(featuresIndex), () -> "column '" + featuresCol + "'", x,
                        i * size, size);
                outside[i] = range.firstOutside(x, i * size) >= 0;
            }
            LeanInference.Scores scores = LeanInference.score(net, x, n);
            List<Row> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                Row r = batch.get(i);
                Object[] values = new Object[r.length() + (raw ? 1 : 0) + (probability ? 1 : 0)
                        + (prediction ? 1 : 0) + (outOfRange ? 1 : 0)];
                int c = 0;
                for (; c < r.length(); c++) {
                    values[c] = r.get(c);
                }
                if (raw) {
                    values[c++] = new DenseVector(scores.logits(i));
                }
                if (probability) {
                    values[c++] = new DenseVector(scores.probabilities(i));
                }
                if (prediction) {
                    values[c++] = (double) scores.prediction(i);
                }
                if (outOfRange) {
                    values[c] = outside[i];
                }
                out.add(RowFactory.create(values));
            }
            return out;
        }
    }

    @Override
    public DropoutMlpModel copy(ParamMap extra) {
        DropoutMlpModel copy = copyValues(new DropoutMlpModel(uid), extra);
        copy.network = network;
        copy.trainedRange = trainedRange;
        return (DropoutMlpModel) copy.setParent(parent());
    }

    /** Spark ML's params metadata (as every MLlib model writes it), then the network as DL4J's zip. */
    @Override
    public MLWriter write() {
        MLWriter params = DefaultParamsWritable.super.write();
        DropoutMlpModel model = this;
        return new MLWriter() {
            @Override
            public void saveImpl(String path) {
                try {
                    params.session(sparkSession()).save(path);
                } catch (IOException e) { // Scala's save declares none, but can throw it
                    throw new UncheckedIOException(path + ": cannot save the model's params: " + e.getMessage(), e);
                }
                RunStore.writeNetwork(model.network(), new Path(path, NETWORK),
                        sparkSession().sparkContext().hadoopConfiguration());
                // as MLlib's models keep their data: one Parquet row (min, max)
                sparkSession().createDataFrame(List.of(RowFactory.create(Vectors.dense(model.trainedRange.min()),
                        Vectors.dense(model.trainedRange.max()))), RANGE_SCHEMA).repartition(1).write()
                        .parquet(new Path(path, RANGE).toString());
            }
        };
    }

    public static MLReader<DropoutMlpModel> read() {
        return new MLReader<>() {
            @Override
            public DropoutMlpModel load(String path) {
                Configuration hadoop = sparkSession().sparkContext().hadoopConfiguration();
                Path p = new Path(path);
                boolean hasRange;
                try {
                    FileSystem fs = p.getFileSystem(hadoop);
                    if (!fs.exists(p)) {
                        throw new DataException(path + ": not found (a saved DropoutMlpModel directory or a DL4J"
                                + " model zip)");
                    }
                    if (fs.getFileStatus(p).isFile()) { // a network the job saved: model.zip or a checkpoint
                        return ofJobNetwork(Identifiable$.MODULE$.randomUID("dropoutMlp"),
                                RunStore.readNetwork(p, hadoop));
                    }
                    hasRange = fs.exists(new Path(p, RANGE));
                } catch (IOException e) {
                    throw new UncheckedIOException(path + ": cannot be read: " + e.getMessage(), e);
                }
                // Spark's reader reads the metadata with textFile, which globs: m[1] would read m1's
                DropoutMlpModel model = new DefaultParamsReadable<DropoutMlpModel>() {
                }.read().session(sparkSession()).load(LiteralPaths.asGlob(p));
                model.network = RunStore.readNetwork(new Path(p, NETWORK), hadoop);
                if (hasRange) {
                    Row range = sparkSession().read().schema(RANGE_SCHEMA)
                            .parquet(LiteralPaths.asGlob(new Path(p, RANGE))).first();
                    model.trainedRange = new FeatureRange(((Vector) range.get(0)).toArray(),
                            ((Vector) range.get(1)).toArray());
                } else { // saved before models kept their range: they took Fashion-MNIST's scaled pixels only
                    model.trainedRange = FeatureRange.unit(model.numFeatures());
                }
                return model;
            }
        };
    }

    private static final StructType RANGE_SCHEMA = new StructType()
            .add("min", org.apache.spark.ml.linalg.SQLDataTypes.VectorType(), false)
            .add("max", org.apache.spark.ml.linalg.SQLDataTypes.VectorType(), false);

    /** A saved {@code DropoutMlpModel} directory, or a DL4J zip {@code ./submit.sh train} saved. */
    public static DropoutMlpModel load(String path) {
        return read().load(path);
    }
}
