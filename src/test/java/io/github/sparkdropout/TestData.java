package io.github.sparkdropout;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

/** Small generated IDX files for parsing and error tests, and the location of the real data for the others. */
public final class TestData {
    private TestData() {
    }

    /** The real Fashion-MNIST: data/fashion-mnist (filled by data/fetch.sh) or Debian's package directory. */
    public static String realData() {
        for (String dir : new String[]{"data/fashion-mnist", "/usr/share/datasets/fashion-mnist"}) {
            if (Files.exists(Path.of(dir, "train-images-idx3-ubyte.gz"))) {
                return dir;
            }
        }
        throw new IllegalStateException("real Fashion-MNIST not found: run data/fetch.sh (after apt-get install"
                + " dataset-fashion-mnist)");
    }

    /** IDX bytes: magic, dims, then the payload. */
    public static byte[] idx(int magic, int[] dims, byte[] payload) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeInt(magic);
            for (int d : dims) {
                out.writeInt(d);
            }
            out.write(payload);
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Path writeGz(Path file, byte[] content) throws IOException {
        Files.createDirectories(file.getParent());
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(content);
        }
        return file;
    }

    /**
     * A valid generated data set of {@code train} / {@code test} examples in {@code dir}: random pixels, labels
     * cycling 0..9.
     */
    public static Path fashionLike(Path dir, int train, int test) throws IOException {
        Random rnd = new Random(1);
        for (String[] split : new String[][]{{"train", "" + train}, {"t10k", "" + test}}) {
            int n = Integer.parseInt(split[1]);
            byte[] px = new byte[n * 784];
            rnd.nextBytes(px);
            byte[] labels = new byte[n];
            for (int i = 0; i < n; i++) {
                labels[i] = (byte) (i % 10);
            }
            writeGz(dir.resolve(split[0] + "-images-idx3-ubyte.gz"), idx(2051, new int[]{n, 28, 28}, px));
            writeGz(dir.resolve(split[0] + "-labels-idx1-ubyte.gz"), idx(2049, new int[]{n}, labels));
        }
        return dir;
    }

    /**
     * One DL4J DataSet per size: uniform random features [n, 784] drawn after seeding ND4J's RNG with {@code seed},
     * one-hot labels {@code (i * 7 + p) % 10} for example i of shard p.
     */
    public static java.util.List<org.nd4j.linalg.dataset.DataSet> randomShards(long seed, int... sizes) {
        org.nd4j.linalg.factory.Nd4j.getRandom().setSeed(seed);
        java.util.List<org.nd4j.linalg.dataset.DataSet> out = new java.util.ArrayList<>();
        for (int p = 0; p < sizes.length; p++) {
            org.nd4j.linalg.api.ndarray.INDArray x = org.nd4j.linalg.factory.Nd4j.rand(
                    org.nd4j.linalg.api.buffer.DataType.FLOAT, sizes[p], 784);
            org.nd4j.linalg.api.ndarray.INDArray y = org.nd4j.linalg.factory.Nd4j.zeros(
                    org.nd4j.linalg.api.buffer.DataType.FLOAT, sizes[p], 10);
            for (int i = 0; i < sizes[p]; i++) {
                y.putScalar(i, (i * 7 + p) % 10, 1f);
            }
            out.add(new org.nd4j.linalg.dataset.DataSet(x, y));
        }
        return out;
    }
}
