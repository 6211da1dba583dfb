package io.github.sparkdropout.data;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * An unsigned-byte IDX file (the MNIST format: big-endian magic {@code 0x0000 08 NDIM}, NDIM big-endian sizes,
 * then the bytes), read whole from any Hadoop filesystem, gzip-compressed or not. Every defect is a one-line
 * {@link DataException} naming the file.
 */
public final class IdxFile {
    /** Magic numbers of unsigned-byte IDX files with 1 and 3 dimensions (labels and images). */
    public static final int LABELS_MAGIC = 2049;
    public static final int IMAGES_MAGIC = 2051;

    private final String source;
    private final int[] dims;
    private final byte[] data;
    private final String sha256;

    private IdxFile(String source, int[] dims, byte[] data, String sha256) {
        this.source = source;
        this.dims = dims;
        this.data = data;
        this.sha256 = sha256;
    }

    /**
     * Reads {@code location} and checks it is an IDX file with {@code expectedMagic}. Keeps the first
     * {@code limit} items (0: all) but checks and checksums the whole file.
     */
    public static IdxFile read(String location, int expectedMagic, int limit, Configuration hadoopConf) {
        Path path = new Path(location);
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try {
            FileSystem fs = path.getFileSystem(hadoopConf);
            try (InputStream raw = new BufferedInputStream(fs.open(path), 1 << 16)) {
                raw.mark(2);
                int b0 = raw.read();
                int b1 = raw.read();
                raw.reset();
                InputStream plain = (b0 == 0x1f && b1 == 0x8b) ? new GZIPInputStream(raw, 1 << 16) : raw;
                try (PipelinedDigestInputStream hashed = new PipelinedDigestInputStream(plain, sha)) {
                    return parse(location, new DataInputStream(hashed), expectedMagic, limit, hashed);
                }
            }
        } catch (FileNotFoundException e) {
            throw new DataException(location + ": file not found (fill data/ with data/fetch.sh, or pass --data)");
        } catch (ZipException e) {
            throw new DataException(location + ": corrupt gzip data (" + e.getMessage() + ")");
        } catch (EOFException e) {
            throw new DataException(location + ": truncated (the file ends inside its header or its gzip stream)");
        } catch (IOException e) {
            throw new DataException(location + ": cannot be read: " + e.getMessage());
        }
    }

    private static IdxFile parse(String location, DataInputStream in, int expectedMagic, int limit,
                                 PipelinedDigestInputStream hashed) throws IOException {
        int magic = in.readInt();
        if (magic != expectedMagic) {
            throw new DataException(location + ": wrong magic number " + magic + " (0x" + Integer.toHexString(magic)
                    + "), expected " + expectedMagic + " for an IDX " + (expectedMagic == IMAGES_MAGIC
                    ? "image" : "label") + " file");
        }
        int ndim = magic & 0xff;
        int[] dims = new int[ndim];
        long itemSize = 1;
        for (int i = 0; i < ndim; i++) {
            dims[i] = in.readInt();
            if (dims[i] < 0) {
                throw new DataException(location + ": negative dimension " + dims[i] + " in the header");
            }
            if (i > 0) {
                itemSize *= dims[i];
            }
        }
        long total = dims[0] * itemSize;
        if (total > Integer.MAX_VALUE - 16) {
            throw new DataException(location + ": header declares " + total + " bytes, more than this reader holds");
        }
        int keepItems = limit > 0 ? Math.min(limit, dims[0]) : dims[0];
        byte[] data = new byte[(int) (keepItems * itemSize)];
        int got = in.readNBytes(data, 0, data.length);
        long rest = total - data.length;
        long skipped = got == data.length ? skipFully(in, rest) : 0;
        if (got < data.length || skipped < rest) {
            throw new DataException(location + ": truncated: the header declares " + dims[0] + " items ("
                    + total + " bytes) but the file holds only " + (got + skipped));
        }
        if (in.read() != -1) {
            throw new DataException(location + ": " + "has bytes after the " + dims[0]
                    + " items its header declares (wrong header or corrupt file)");
        }
        int[] keptDims = dims.clone();
        keptDims[0] = keepItems;
        return new IdxFile(location, keptDims, data, hashed.hexDigest());
    }

    private static long skipFully(InputStream in, long n) throws IOException {
        byte[] buf = new byte[1 << 16];
        long done = 0;
        while (done < n) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, n - done));
            if (r < 0) {
                break;
            }
            done += r;
        }
        return done;
    }

    public String source() {
        return source;
    }

    /** Sizes as read (dimension 0 already cut to the limit). */
    public int[] dims() {
        return dims.clone();
    }

    public int count() {
        return dims[0];
    }

    /** The kept items' bytes, row-major. */
    public byte[] data() {
        return data;
    }

    /** SHA-256 of the whole uncompressed file (independent of how it was gzipped). */
    public String sha256() {
        return sha256;
    }
}
