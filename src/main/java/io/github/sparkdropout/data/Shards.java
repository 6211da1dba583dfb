package io.github.sparkdropout.data;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.storage.StorageLevel;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.concurrency.AffinityManager;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What the trainer consumes: each partition's {@link MnistFrames.Chunk} turned into ONE DL4J {@link DataSet}
 * holding that worker's whole shard (features float32 [n, 784] scaled to [0, 1] exactly as the frame's rows are,
 * labels one-hot [n, 10]), cached in executor memory. Minibatches are cut from it in the executor, never shipped.
 *
 * <p>Made from the bytes, not from the frame's rows: going through the rows boxes 47 M doubles, which slows the
 * job's start; straight from the bytes into the native buffer avoids that.
 */
public final class Shards {
    /** (float) (k / 255.0): the frame's feature values, as float32. */
    private static final float[] SCALED = new float[256];

    static {
        for (int k = 0; k < 256; k++) {
            SCALED[k] = (float) MnistFrames.SCALED[k];
        }
    }

    private Shards() {
    }

    /** One cached DataSet per partition of {@code chunks} ({@link MnistFrames#chunks}). */
    public static JavaRDD<DataSet> of(JavaRDD<MnistFrames.Chunk> chunks, String name) {
        JavaRDD<DataSet> shards = chunks.map(Shards::toDataSet);
        shards.setName(name + " shards (one DL4J DataSet per worker)");
        return shards.persist(StorageLevel.MEMORY_ONLY());
    }

    /**
     * As {@link #of}, the features kept as the images' bytes (UBYTE [n, 784]: a quarter of float32's memory, 47 MB
     * instead of 188 for the training set, as PyTorch keeps them): for data cut into minibatches, each made float32
     * by {@link #rows} as it is cut.
     */
    public static JavaRDD<DataSet> ofBytes(JavaRDD<MnistFrames.Chunk> chunks, String name) {
        JavaRDD<DataSet> shards = chunks.map(c -> new DataSet(bytes(c.pixels(), c.count()),
                oneHot(c.labels(), c.count())));
        shards.setName(name + " shards (one DL4J DataSet per worker, images as bytes)");
        return shards.persist(StorageLevel.MEMORY_ONLY());
    }

    /**
     * {@code source}'s partitions made into shards (by {@code make}) and cached beside {@code train}'s: partition i is
     * computed where train's partition i is cached, so each epoch's stage, which zips the two (a worker trains on
     * one, then evaluates on the other), finds both in its executor. A shard cached on another executor is
     * serialised and fetched again in every epoch (300-600 ms for a test shard on a standalone cluster). Needs as
     * many partitions on both sides.
     */
    public static <T> JavaRDD<DataSet> beside(JavaRDD<DataSet> train, JavaRDD<T> source,
                                              org.apache.spark.api.java.function.Function<T, DataSet> make,
                                              String name) {
        // the zip's first parent is the cached train shards: Spark prefers their executors for its tasks
        JavaRDD<DataSet> shards = train.zipPartitions(source, (t, s) -> s.hasNext()
                ? java.util.List.of(make.call(s.next())).iterator() : java.util.Collections.<DataSet>emptyIterator());
        shards.setName(name + " shards (one DL4J DataSet per worker, beside its training shard)");
        return shards.persist(StorageLevel.MEMORY_ONLY());
    }

    public static DataSet toDataSet(MnistFrames.Chunk chunk) {
        int n = chunk.count();
        return new DataSet(features(chunk.pixels(), n), oneHot(chunk.labels(), n));
    }

    /** {@code n} images of 784 bytes as a UBYTE matrix [n, 784] (values 0..255). */
    static INDArray bytes(byte[] pixels, int n) {
        INDArray b = Nd4j.createUninitialized(DataType.UBYTE, n, FashionMnist.PIXELS);
        b.data().asNio().put(pixels, 0, n * FashionMnist.PIXELS);
        Nd4j.getAffinityManager().tagLocation(b, AffinityManager.Location.HOST);
        return b;
    }

    /**
     * {@code into} (float32) = the network's features of images kept as bytes ({@link #ofBytes}): k / 255 in
     * float32, exactly the floats of {@link #features}, as IEEE division by 255 is correctly rounded, as is
     * (float) (k / 255.0) (tested for every byte value).
     */
    public static void bytesToFeatures(INDArray bytes, INDArray into) {
        into.assign(bytes); // the cast, in ND4J's native code
        into.divi(255f);
    }

    /** Rows {@code idx} of a shard's features as float32, whether the shard keeps them as floats or as bytes. */
    public static INDArray featureRows(INDArray features, int[] idx) {
        INDArray rows = features.getRows(idx);
        if (!asBytes(rows)) {
            return rows;
        }
        INDArray floats = Nd4j.createUninitialized(DataType.FLOAT, rows.shape());
        bytesToFeatures(rows, floats);
        return floats;
    }

    /** Whether a shard's features are kept as bytes ({@link #ofBytes}). */
    public static boolean asBytes(INDArray features) {
        return features.dataType() == DataType.UBYTE;
    }

    /** The first {@code n} Fashion-MNIST labels (0-9) as one-hot float32 rows [n, 10]. */
    static INDArray oneHot(byte[] labels, int n) {
        int[] ints = new int[n];
        for (int i = 0; i < n; i++) {
            ints[i] = labels[i];
        }
        return oneHot(ints, n, FashionMnist.CLASSES);
    }

    /** The first {@code n} class labels (0..classes-1) as one-hot float32 rows [n, classes]. */
    static INDArray oneHot(int[] labels, int n, int classes) {
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, classes);
        Nd4j.getAffinityManager().ensureLocation(y, AffinityManager.Location.HOST); // CUDA: the zeros, on the host
        java.nio.FloatBuffer out = y.data().asNioFloat();
        for (int i = 0; i < n; i++) {
            out.put(i * classes + labels[i], 1f);
        }
        Nd4j.getAffinityManager().tagLocation(y, AffinityManager.Location.HOST);
        return y;
    }

    /**
     * {@code n} images of 784 bytes as float32 features [n, 784], scaled to [0, 1] exactly as the frame's rows
     * are: what the network sees, in training, evaluation and prediction.
     */
    public static INDArray features(byte[] pixels, int n) {
        int px = FashionMnist.PIXELS;
        INDArray f = Nd4j.createUninitialized(DataType.FLOAT, n, px);
        java.nio.FloatBuffer features = f.data().asNioFloat();
        float[] row = new float[px];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < px; j++) {
                row[j] = SCALED[pixels[i * px + j] & 0xff];
            }
            features.put(i * px, row); // bulk, one row at a time
        }
        // written through the host buffer: on CUDA the device copy must be refreshed from it
        Nd4j.getAffinityManager().tagLocation(f, AffinityManager.Location.HOST);
        return f;
    }
}
