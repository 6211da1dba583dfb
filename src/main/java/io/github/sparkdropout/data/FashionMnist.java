package io.github.sparkdropout.data;

import org.apache.hadoop.conf.Configuration;

import java.util.List;
import java.util.Map;

/**
 * Fashion-MNIST read from a directory or Hadoop URI holding the four IDX .gz files, validated (magic numbers,
 * 28x28 images, as many labels as images, labels 0..9) before anything trains.
 */
public final class FashionMnist {
    public static final int ROWS = 28;
    public static final int COLS = 28;
    public static final int PIXELS = ROWS * COLS;
    public static final int CLASSES = 10;

    /** The Fashion-MNIST class names, by label. */
    public static final List<String> CLASS_NAMES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    /** SHA-256 of the official files' uncompressed contents (the .gz bytes differ between mirrors). */
    public static final Map<String, String> OFFICIAL_SHA256 = Map.of(
            "train-images-idx3-ubyte", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "train-labels-idx1-ubyte", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "t10k-images-idx3-ubyte", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "t10k-labels-idx1-ubyte", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34");

    private FashionMnist() {
    }

    /** One split (train or test) as raw bytes: pixels 0..255 row-major, labels 0..9. */
    public record Split(String name, int count, byte[] pixels, byte[] labels, String imagesSha256,
                        String labelsSha256, boolean official) implements DataProvenance {
    }

    public static Split train(String dir, int limit, Configuration hadoopConf) {
        return read(dir, "train", "train", limit, hadoopConf);
    }

    public static Split test(String dir, int limit, Configuration hadoopConf) {
        return read(dir, "t10k", "test", limit, hadoopConf);
    }

    /**
     * Images to score: {@code dir}'s {@code prefix}-images file (train or t10k) and, when present, its labels
     * (else every label is {@link #UNKNOWN_LABEL}). The same checks as for training.
     */
    public static Split forScoring(String dir, String prefix, int limit, Configuration hadoopConf) {
        String base = dir.endsWith("/") ? dir : dir + "/";
        String labels = base + prefix + "-labels-idx1-ubyte.gz";
        try {
            if (new org.apache.hadoop.fs.Path(labels).getFileSystem(hadoopConf).exists(
                    new org.apache.hadoop.fs.Path(labels))) {
                return read(dir, prefix, prefix, limit, hadoopConf);
            }
        } catch (java.io.IOException e) {
            throw new DataException(labels + ": cannot be read: " + e.getMessage());
        }
        IdxFile images = IdxFile.read(base + prefix + "-images-idx3-ubyte.gz", IdxFile.IMAGES_MAGIC, limit,
                hadoopConf);
        checkImages(images);
        byte[] unknown = new byte[images.count()];
        java.util.Arrays.fill(unknown, UNKNOWN_LABEL);
        return new Split(prefix, images.count(), images.data(), unknown, images.sha256(), "", false);
    }

    /** The label of an image whose labels file is absent. */
    public static final byte UNKNOWN_LABEL = -1;

    private static void checkImages(IdxFile images) {
        int[] d = images.dims();
        if (d[1] != ROWS || d[2] != COLS) {
            throw new DataException(images.source() + ": images are " + d[1] + "x" + d[2] + ", expected "
                    + ROWS + "x" + COLS);
        }
        if (images.count() == 0) {
            throw new DataException(images.source() + ": holds no images");
        }
    }

    static Split read(String dir, String prefix, String name, int limit, Configuration hadoopConf) {
        String base = dir.endsWith("/") ? dir : dir + "/";
        String imagesName = prefix + "-images-idx3-ubyte";
        String labelsName = prefix + "-labels-idx1-ubyte";
        IdxFile images = IdxFile.read(base + imagesName + ".gz", IdxFile.IMAGES_MAGIC, limit, hadoopConf);
        IdxFile labels = IdxFile.read(base + labelsName + ".gz", IdxFile.LABELS_MAGIC, limit, hadoopConf);
        checkImages(images);
        if (images.count() != labels.count()) {
            throw new DataException(name + " set: " + images.source() + " holds " + images.count()
                    + " images but " + labels.source() + " holds " + labels.count() + " labels");
        }
        byte[] y = labels.data();
        for (int i = 0; i < y.length; i++) {
            if (y[i] < 0 || y[i] >= CLASSES) {
                throw new DataException(labels.source() + ": label " + (y[i] & 0xff) + " at index " + i
                        + " is outside 0.." + (CLASSES - 1));
            }
        }
        boolean official = images.sha256().equals(OFFICIAL_SHA256.get(imagesName))
                && labels.sha256().equals(OFFICIAL_SHA256.get(labelsName));
        return new Split(name, images.count(), images.data(), y, images.sha256(), labels.sha256(), official);
    }
}
