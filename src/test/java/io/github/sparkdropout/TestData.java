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
}
