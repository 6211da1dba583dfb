package io.github.sparkdropout.job;

import io.github.sparkdropout.checkpoint.RunStore;
import io.github.sparkdropout.model.LeanInference;
import io.github.sparkdropout.model.Nd4jBackends;
import io.github.sparkdropout.config.UsageException;
import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.data.DataException;
import io.github.sparkdropout.data.FashionMnist;
import io.github.sparkdropout.data.MnistFrames;
import io.github.sparkdropout.data.Shards;
import io.github.sparkdropout.fs.LiteralPaths;
import io.github.sparkdropout.fs.Protection;
import io.github.sparkdropout.model.ParamVectors;
import io.github.sparkdropout.replica.ReplicaCache;
import io.github.sparkdropout.replica.ReplicaKey;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import scala.Tuple2;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * {@code predict}: a saved run's network scores images on the executors and the predictions are written as
 * Parquet: one row per image with its index, its label and the label's class name when known, the predicted class
 * and its name, and the ten class probabilities. The images are Fashion-MNIST IDX files (a directory, as {@code train} reads) or a
 * Parquet table with a {@code features} vector column of 784 values in [0, 1] (and, optionally, {@code label}).
 */
public final class PredictJob {
    public static final StructType SCHEMA = new StructType()
            .add("run_id", DataTypes.StringType, false)
            .add("epoch", DataTypes.IntegerType, false)
            .add("index", DataTypes.LongType, false)
            .add("label", DataTypes.IntegerType, true)
            .add("label_name", DataTypes.StringType, true)
            .add("prediction", DataTypes.IntegerType, false)
            .add("class_name", DataTypes.StringType, false)
            .add("probabilities", DataTypes.createArrayType(DataTypes.DoubleType, false), false);

    /** What was written. */
    public record Result(String runId, int epoch, String out, long rows, long labelled, long correct) {
    }

    private final SparkSession spark;

    public PredictJob(SparkSession spark) {
        this.spark = spark;
    }

    /**
     * @param epoch null: the run's last saved epoch
     * @param split {@code test} or {@code train}: which IDX files of a directory to score
     * @param limit score only the first N images (0: all)
     */
    public Result run(String metrics, String runId, Integer epoch, String data, String split, int limit,
                      String out) {
        Nd4jBackends.requireUsable();
        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        requireAbsent(out, hadoop);
        SavedRun saved = SavedRun.load(new RunStore(hadoop, metrics), metrics, runId, epoch);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Scorer scorer = new Scorer(runId, saved.epoch(), jsc.broadcast(saved.network().getLayerWiseConfigurations()
                .toJson()), jsc.broadcast(ParamVectors.get(saved.network())),
                saved.threadsPerWorker());
        JavaRDD<Row> rows;
        JavaRDD<Row> scanned = null;
        if (isParquet(data, hadoop)) {
            Dataset<Row> frame = spark.read().parquet(LiteralPaths.asGlob(new Path(data)));
            if (!List.of(frame.columns()).contains("features")
                    || !(frame.schema().apply("features").dataType() instanceof org.apache.spark.ml.linalg.VectorUDT)) {
                throw new DataException(data + ": no 'features' vector column (784 pixel values in [0, 1])");
            }
            boolean labelled = List.of(frame.columns()).contains("label");
            if (labelled && !(frame.schema().apply("label").dataType() instanceof org.apache.spark.sql.types.NumericType)) {
                throw new DataException(data + ": column 'label' is " + frame.schema().apply("label").dataType()
                        .simpleString() + ", not a number");
            }
            Dataset<Row> input = labelled ? frame.select("features", "label") : frame.select("features");
            if (limit > 0) {
                input = input.limit(limit);
            }
            // read once: zipWithIndex counts the partitions before the scoring pass, which must see the same rows
            scanned = input.javaRDD().cache();
            rows = scanned.zipWithIndex().mapPartitions(scorer::scoreRows);
        } else {
            String prefix = split.equals("train") ? "train" : "t10k";
            FashionMnist.Split images = FashionMnist.forScoring(data, prefix, limit, hadoop);
            int partitions = Math.max(1, Math.min(spark.sparkContext().defaultParallelism(), images.count()));
            int n = images.count();
            rows = MnistFrames.chunks(spark, images, partitions, null).mapPartitionsWithIndex(
                    (p, chunks) -> scorer.scoreChunks((long) p * n / partitions, chunks), true);
        }
        Dataset<Row> predictions = spark.createDataFrame(rows, SCHEMA).cache();
        try {
            createParent(out, hadoop);
            try {
                predictions.write().parquet(out);
                protect(out, hadoop);
            } catch (Exception e) { // --out did not exist before: leave nothing that blocks a rerun
                deleteQuietly(out, hadoop);
                throw e;
            }
            Row counts = predictions.selectExpr("count(*)", "count(label)",
                    "coalesce(sum(CAST(label = prediction AS INT)), 0)").first();
            return new Result(runId, saved.epoch(), out, counts.getLong(0), counts.getLong(1), counts.getLong(2));
        } finally {
            predictions.unpersist();
            if (scanned != null) {
                scanned.unpersist(false);
            }
            scorer.release();
        }
    }

    private static void deleteQuietly(String out, Configuration hadoop) {
        try {
            Path p = new Path(out);
            p.getFileSystem(hadoop).delete(p, true);
        } catch (IOException ignored) {
            // the error that brought us here is the one to report
        }
    }

    /** --out's missing parents, protected as the job's own directories are. */
    private static void createParent(String out, Configuration hadoop) {
        Path parent = new Path(out).getParent();
        try {
            if (parent != null && !Protection.mkdirs(parent.getFileSystem(hadoop), parent)) {
                throw new UsageException("--out " + out + ": cannot create " + parent);
            }
        } catch (IOException e) {
            throw UsageException.atLocation("--out " + out + ": cannot create " + parent, e);
        }
    }

    /** Spark's committer creates the output with the umask's defaults: never writable by others. */
    private static void protect(String out, Configuration hadoop) {
        Path p = new Path(out);
        try {
            Protection.tree(p.getFileSystem(hadoop), p);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("--out " + out + ": cannot set its permissions: "
                    + e.getMessage(), e);
        }
    }

    private static void requireAbsent(String out, Configuration hadoop) {
        try {
            Path p = new Path(out);
            if (p.getFileSystem(hadoop).exists(p)) {
                throw new UsageException("--out " + out + " exists already; predictions never overwrite earlier"
                        + " results: choose another --out");
            }
        } catch (IOException e) {
            throw UsageException.atLocation("--out " + out + ": cannot be checked", e);
        }
    }

    /** A Parquet file, or a directory holding Parquet files (as Spark writes them). */
    private static boolean isParquet(String data, Configuration hadoop) {
        try {
            Path p = new Path(data);
            FileSystem fs = p.getFileSystem(hadoop);
            if (!fs.exists(p)) {
                throw new DataException(data + ": not found");
            }
            if (fs.getFileStatus(p).isFile()) {
                return data.endsWith(".parquet");
            }
            return !LiteralPaths.list(fs, p, n -> n.endsWith(".parquet")).isEmpty();
        } catch (IOException e) {
            throw new DataException(data + ": cannot be read: " + e.getMessage());
        }
    }

    /** The network on the executors: cached replicas set to the saved parameters, in inference mode. */
    private record Scorer(String runId, int epoch, Broadcast<String> networkJson, Broadcast<float[]> params,
                          int threads) implements Serializable {
        private static final int BATCH = 2048;

        MultiLayerNetwork network() {
            return ReplicaCache.acquire(ReplicaKey.of(replicaOwner(), org.apache.spark.TaskContext.getPartitionId()),
                    networkJson.value(), params.value(), threads)
                    .net();
        }

        private String replicaOwner() {
            return "predict-" + runId + "-" + epoch + "-" + params.id();
        }

        void release() {
            ReplicaCache.evict(replicaOwner());
            networkJson.destroy();
            params.destroy();
        }

        Iterator<Row> scoreChunks(long offset, Iterator<MnistFrames.Chunk> chunks) {
            List<Row> out = new ArrayList<>();
            MultiLayerNetwork net = network();
            long index = offset;
            while (chunks.hasNext()) {
                MnistFrames.Chunk c = chunks.next();
                LeanInference.Scores scores = LeanInference.score(net, Shards.features(c.pixels(), c.count()));
                for (int i = 0; i < c.count(); i++) {
                    out.add(row(index++, c.labels()[i] == FashionMnist.UNKNOWN_LABEL ? null : (int) c.labels()[i],
                            scores, i));
                }
            }
            return out.iterator();
        }

        Iterator<Row> scoreRows(Iterator<Tuple2<Row, Long>> input) {
            List<Row> out = new ArrayList<>();
            MultiLayerNetwork net = network();
            List<Tuple2<Row, Long>> batch = new ArrayList<>(BATCH);
            float[] x = new float[BATCH * FashionMnist.PIXELS];
            while (input.hasNext()) {
                batch.add(input.next());
                if (batch.size() == BATCH || !input.hasNext()) {
                    for (int i = 0; i < batch.size(); i++) {
                        long index = batch.get(i)._2();
                        LeanInference.putFeatures(batch.get(i)._1().get(0), () -> "row " + index + ": 'features'", x,
                                i * FashionMnist.PIXELS);
                    }
                    LeanInference.Scores scores = LeanInference.score(net, x, batch.size());
                    for (int i = 0; i < batch.size(); i++) {
                        Row r = batch.get(i)._1();
                        Integer label = r.length() > 1 && !r.isNullAt(1) ? (int) ((Number) r.get(1)).doubleValue()
                                : null;
                        out.add(row(batch.get(i)._2(), label, scores, i));
                    }
                    batch.clear();
                }
            }
            return out.iterator();
        }

        /** The output row of the {@code i}th example of {@code scores}. */
        private Row row(long index, Integer label, LeanInference.Scores scores, int i) {
            double[] p = scores.probabilities(i);
            Double[] boxed = new Double[p.length];
            for (int c = 0; c < p.length; c++) {
                boxed[c] = p[c];
            }
            int prediction = scores.prediction(i);
            String labelName = label == null || label < 0 || label >= FashionMnist.CLASSES ? null
                    : FashionMnist.CLASS_NAMES.get(label);
            return RowFactory.create(runId, epoch, index, label, labelName, prediction,
                    FashionMnist.CLASS_NAMES.get(prediction), boxed);
        }
    }
}
