package io.github.sparkdropout.data;

import io.github.sparkdropout.concurrent.DaemonThreads;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Like {@link java.security.DigestInputStream}, but the digest is computed on a second thread while the caller
 * keeps reading (and, for a gzip file, inflating): each chunk read is copied and hashed in order behind the reader.
 * Why: under the C1-only JIT of local mode SHA-256 runs without its CPU intrinsic, and hashing the 47 MB of the
 * training images takes about as long as inflating them; side by side they take about as long as the slower one.
 */
final class PipelinedDigestInputStream extends FilterInputStream {
    private final MessageDigest digest;
    private final ExecutorService hasher = Executors.newSingleThreadExecutor(DaemonThreads.named("idx-sha256"));
    private Future<?> last;

    PipelinedDigestInputStream(InputStream in, MessageDigest digest) {
        super(in);
        this.digest = digest;
    }

    @Override
    public int read() throws IOException {
        int b = in.read();
        if (b >= 0) {
            hash(new byte[]{(byte) b});
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n > 0) {
            hash(Arrays.copyOfRange(b, off, off + n));
        }
        return n;
    }

    /** Skipped bytes are read: they are part of the checksum. */
    @Override
    public long skip(long n) throws IOException {
        byte[] buf = new byte[(int) Math.min(n, 1 << 16)];
        long done = 0;
        while (done < n) {
            int r = read(buf, 0, (int) Math.min(buf.length, n - done));
            if (r < 0) {
                break;
            }
            done += r;
        }
        return done;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    private void hash(byte[] chunk) {
        last = hasher.submit(() -> digest.update(chunk)); // one thread: chunks are hashed in the order read
    }

    /** The digest of every byte read so far (waits for the hashing to catch up), in hex. */
    String hexDigest() throws IOException {
        try {
            if (last != null) {
                last.get();
            }
            return java.util.HexFormat.of().formatHex(digest.digest());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while checksumming");
        } catch (ExecutionException e) {
            throw new IOException("checksumming failed", e.getCause());
        }
    }

    @Override
    public void close() throws IOException {
        hasher.shutdownNow();
        super.close();
    }
}
