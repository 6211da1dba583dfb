package io.github.sparkdropout.job;

import io.github.sparkdropout.checkpoint.RunStore;
import io.github.sparkdropout.model.LeanInference;
import io.github.sparkdropout.model.Nd4jBackends;
import io.github.sparkdropout.config.UsageException;
import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.data.DataException;
import io.github.sparkdropout.data.FashionMnist;
import io.github.sparkdropout.data.FeatureRange;
import io.github.sparkdropout.data.FrameShards;
import io.github.sparkdropout.data.MnistFrames;
import io.github.sparkdropout.data.Shards;
import io.github.sparkdropout.fs.LiteralPaths;
import io.github.sparkdropout.fs.Protection;
import io.github.sparkdropout.fs.Renames;
import io.github.sparkdropout.model.ParamVectors;
import io.github.sparkdropout.replica.ReplicaCache;
import io.github.sparkdropout.replica.ReplicaKey;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import scala.Tuple2;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * {@code predict}: a saved run's network scores images on the executors and the predictions are written as
 * Parquet: one row per image with its index, its label and the label's class name when known, the predicted class
 * and its name, and the ten class probabilities. The images are Fashion-MNIST IDX files (a directory, as {@code train} reads) or a
 * Parquet table with a {@code features} vector column of 784 values in [0, 1] (and, optionally, {@code label}: a
 * class 0..9, or null for an unlabelled image); a row {@code fit} would refuse is refused with one line naming it.
 * The predictions are written to a hidden staging directory beside {@code --out} and renamed into place when
 * complete, never over anything: a failed command, or one that lost a race for the same {@code --out}, leaves
 * nothing there and deletes nothing but its own staging directory.
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
        Path target = requireAbsent(out, hadoop);
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
        // written where only this command looks (a hidden name: Spark's readers skip it), then renamed into place:
        // a command that fails, or loses a race for --out, deletes only its own staging directory
        Path staging = new Path(target.getParent(), "_" + target.getName() + ".predict-" + UUID.randomUUID());
        FileSystem fs = fileSystem(target, hadoop);
        try {
            createParent(out, hadoop);
            fs.mkdirs(staging);
            fs.deleteOnExit(staging); // when the JVM ends first (Ctrl-C): Hadoop deletes it as it closes the fs
            predictions.write().mode(SaveMode.Append).parquet(staging.toString());
            Row counts = predictions.selectExpr("count(*)", "count(label)",
                    "coalesce(sum(CAST(label = prediction AS INT)), 0)").first();
            publish(fs, staging, target, out);
            protect(out, hadoop);
            return new Result(runId, saved.epoch(), out, counts.getLong(0), counts.getLong(1), counts.getLong(2));
        } catch (IOException e) {
            throw new UncheckedIOException("--out " + out + ": cannot be written: " + e.getMessage(), e);
        } finally {
            try {
                fs.cancelDeleteOnExit(staging);
                fs.delete(staging, true); // gone after a publish; else what this command wrote, nothing else
            } catch (IOException ignored) {
                // a leftover staging directory is hidden from readers; the error that brought us here is reported
            }
            predictions.unpersist();
            if (scanned != null) {
                scanned.unpersist(false);
            }
            scorer.release();
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

    /** {@code out}, qualified, if nothing is there yet. */
    private static Path requireAbsent(String out, Configuration hadoop) {
        try {
            Path p = new Path(out);
            FileSystem fs = p.getFileSystem(hadoop);
            if (fs.exists(p)) {
                throw new UsageException("--out " + out + " exists already; predictions never overwrite earlier"
                        + " results: choose another --out");
            }
            return fs.makeQualified(p);
        } catch (IOException e) {
            throw UsageException.atLocation("--out " + out + ": cannot be checked", e);
        }
    }

    private static FileSystem fileSystem(Path p, Configuration hadoop) {
        try {
            return p.getFileSystem(hadoop);
        } catch (IOException e) {
            throw UsageException.atLocation("--out " + p + ": cannot be checked", e);
        }
    }

    /** Puts the staged predictions at {@code --out}, unless another command put its own there first. */
    private static void publish(FileSystem fs, Path staging, Path target, String out) throws IOException {
        if (!Renames.moveUnlessTaken(fs, staging, target)) {
            throw taken(out);
        }
    }

    private static UsageException taken(String out) {
        return new UsageException("--out " + out + " was written by another command while this one ran;"
                + " predictions never overwrite earlier results: the other's are kept there, these ones are"
                + " discarded (run again with another --out)");
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
                    Integer[] labels = new Integer[batch.size()];
                    for (int i = 0; i < batch.size(); i++) {
                        long index = batch.get(i)._2();
                        int offset = i * FashionMnist.PIXELS;
                        LeanInference.putFeatures(batch.get(i)._1().get(0), () -> "row " + index + ": 'features'", x,
                                offset, FashionMnist.PIXELS);
                        int outside = PIXELS_RANGE.firstOutside(x, offset);
                        if (outside >= 0) {
                            throw outOfRange(index, x[offset + outside], outside);
                        }
                        labels[i] = label(batch.get(i)._1(), index);
                    }
                    LeanInference.Scores scores = LeanInference.score(net, x, batch.size());
                    for (int i = 0; i < batch.size(); i++) {
                        out.add(row(batch.get(i)._2(), labels[i], scores, i));
                    }
                    batch.clear();
                }
            }
            return out.iterator();
        }

        /**
         * Row {@code index}'s label: null (an unlabelled image) or a class 0..9, as fit takes them. Anything else
         * would be scored against a class it is not (NaN and 3.7 became classes 0 and 3).
         */
        private static Integer label(Row r, long index) {
            if (r.length() < 2 || r.isNullAt(1)) {
                return null;
            }
            double l = ((Number) r.get(1)).doubleValue();
            if (!FrameShards.isClass(l, FashionMnist.CLASSES)) {
                throw new DataException("row " + index + ": 'label' is " + (l == Math.rint(l) && Math.abs(l) < 1e15
                        ? Long.toString((long) l) : Double.toString(l)) + ", not a class 0.."
                        + (FashionMnist.CLASSES - 1) + " (a null label marks an unlabelled image)");
            }
            return (int) l;
        }

        /**
         * Refused rather than flagged: predict's input is Fashion-MNIST images scaled as the network was trained
         * (its IDX input always is); values outside [0, 1] are almost surely unscaled pixels (0..255), whose
         * predictions are confident and meaningless, and the printed accuracy would hide it.
         */
        private static final FeatureRange PIXELS_RANGE = FeatureRange.unit(FashionMnist.PIXELS);

        private static DataException outOfRange(long index, float value, int position) {
            return new DataException("row " + index + ": 'features' holds " + value + " at position " + position
                    + ", outside [0, 1], the range the network was trained on: scale the pixels to [0, 1] (divide"
                    + " by 255, or MinMaxScaler)");
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
