package io.github.sparkdropout.model;

import com.sun.jna.NativeLibrary;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.concurrency.AffinityManager;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.Map;

/**
 * The BLAS work of the training's hot paths (the lean step's GEMMs, the averaging's vector sums) and the gather of
 * a minibatch's rows. On ND4J's CPU backend these call OpenBLAS itself, the library ND4J's own ops end in or could:
 * ND4J's {@code Mmul} op first builds a Java op object, an op context and native pointers on every call, and its
 * element-wise add and scale are not vectorised. Elsewhere (the CUDA backend) and for arrays BLAS cannot take as
 * they are, ND4J's own ops. Both give the same bits (tested).
 *
 * <p>This class and {@link HostOps} are the only ones that call native code (JavaCPP pointers, OpenBLAS, JNA,
 * libnd4j), so they are what an ND4J or OpenBLAS upgrade has to be checked against (ArchitectureTest keeps it so).
 */
public final class HostBlas {
    // the CUDA build carries no OpenBLAS natives: its class is never touched there
    private static final boolean HOST_BLAS = Nd4j.getEnvironment().isCPU();

    private HostBlas() {
    }

    public static void gemm(INDArray a, INDArray b, INDArray c, boolean transposeA, boolean transposeB, double alpha,
                            double beta) {
        Layout la;
        Layout lb;
        Layout lc;
        if (!HOST_BLAS || (la = Layout.of(a)) == null || (lb = Layout.of(b)) == null || (lc = Layout.of(c)) == null) {
            Nd4j.gemm(a, b, c, transposeA, transposeB, alpha, beta);
            return;
        }
        long k = transposeA ? a.size(0) : a.size(1);
        if (c.size(0) != (transposeA ? a.size(1) : a.size(0)) || c.size(1) != (transposeB ? b.size(0) : b.size(1))
                || k != (transposeB ? b.size(1) : b.size(0))) {
            Nd4j.gemm(a, b, c, transposeA, transposeB, alpha, beta); // ND4J's own message for wrong shapes
            return;
        }
        // in column-major terms: a row-major matrix is its transpose; a row-major C is computed as C^T = B^T A^T
        if (lc.columnMajor) {
            Matrices.sgemm(transposeA != !la.columnMajor, transposeB != !lb.columnMajor, c.size(0), c.size(1), k,
                    alpha, a, la.ld, b, lb.ld, beta, c, lc.ld);
        } else {
            Matrices.sgemm(transposeB != lb.columnMajor, transposeA != la.columnMajor, c.size(1), c.size(0), k,
                    alpha, b, lb.ld, a, la.ld, beta, c, lc.ld);
        }
    }

    /**
     * The kernel set OpenBLAS runs in this JVM, as OpenBLAS names its core ("Haswell", "SkylakeX", "Zen", ...), and
     * how it was chosen: e.g. "Zen (auto-detected)", "Haswell (OPENBLAS_CORETYPE)". OpenBLAS picks it when it loads
     * and a requested name it does not know is ignored, so only the library itself can say. Not the CPU backend:
     * "none (" + the backend + ")".
     */
    public static String kernels() {
        if (!HOST_BLAS) {
            return "none (" + Nd4j.getBackend().getClass().getSimpleName() + ")";
        }
        String requested = System.getenv("OPENBLAS_CORETYPE");
        String how = requested == null || requested.isEmpty() ? "auto-detected" : "OPENBLAS_CORETYPE";
        return CoreName.LOADED + " (" + how + ")";
    }

    /** OpenBLAS's own {@code openblas_get_corename()}, which JavaCPP's preset leaves unmapped: called through JNA. */
    private static final class CoreName {
        static final String LOADED = lookUp();

        private static String lookUp() {
            try {
                Loader.load(openblas_nolapack.class);
                for (Map.Entry<String, String> lib : Loader.getLoadedLibraries().entrySet()) {
                    if (lib.getKey().startsWith("openblas_nolapack@") && lib.getValue() != null) {
                        // the path JavaCPP loaded: dlopen of it again returns that very library and its state
                        return NativeLibrary.getInstance(lib.getValue()).getFunction("openblas_get_corename")
                                .invokeString(new Object[0], false);
                    }
                }
                throw new IllegalStateException("JavaCPP reports no loaded libopenblas_nolapack");
            } catch (RuntimeException | LinkageError e) {
                LoggerFactory.getLogger(HostBlas.class).warn("cannot ask OpenBLAS which kernels it runs", e);
                return "unknown";
            }
        }
    }

    /** {@code y = x}, two float vectors of one length. */
    public static void copy(INDArray x, INDArray y) {
        if (vectors(x, y)) {
            Vectors.copy(x, y);
        } else {
            y.assign(x.reshape(y.shape()));
        }
    }

    /** {@code y += x}, two float vectors of one length: each element the one float addition. */
    public static void add(INDArray x, INDArray y) {
        if (vectors(x, y)) {
            Vectors.add(x, y);
        } else {
            y.addi(x.reshape(y.shape()));
        }
    }

    /** {@code x *= alpha}, a float vector: each element the one float multiplication. */
    public static void scale(float alpha, INDArray x) {
        if (vectors(x, x)) {
            Vectors.scale(alpha, x);
        } else {
            x.muli(alpha);
        }
    }

    /** Both contiguous float vectors (any shape, unit stride) of one length, on the CPU backend. */
    private static boolean vectors(INDArray x, INDArray y) {
        return HOST_BLAS && x.dataType() == DataType.FLOAT && y.dataType() == DataType.FLOAT
                && x.length() == y.length() && x.length() > 0 && x.length() <= Integer.MAX_VALUE
                && x.elementWiseStride() == 1 && y.elementWiseStride() == 1;
    }

    /**
     * {@code dst[i] = src[idx[i]]}: one memcpy a row for c-ordered float or byte matrices of one type, on the host
     * (CUDA: the device copy follows); other arrays through ND4J's {@code pullRows}. Indices outside {@code src}
     * throw.
     */
    public static void copyRows(INDArray src, INDArray dst, int[] idx) {
        boolean memcpy = src.dataType() == DataType.FLOAT || src.dataType() == DataType.UBYTE;
        if (!memcpy || src.ordering() != 'c' || !src.isMatrix() || src.elementWiseStride() != 1
                || dst.dataType() != src.dataType() || dst.ordering() != 'c') {
            Nd4j.pullRows(src, dst, 1, idx);
            return;
        }
        AffinityManager affinity = Nd4j.getAffinityManager();
        affinity.ensureLocation(src, AffinityManager.Location.HOST);
        // memcpy checks nothing: a wrong index or buffer would corrupt memory, not throw
        if (dst.size(1) != src.size(1) || dst.size(0) < idx.length) {
            throw new IllegalArgumentException("minibatch buffer " + Arrays.toString(dst.shape())
                    + " cannot take " + idx.length + " rows of " + src.size(1));
        }
        for (int i : idx) {
            if (i < 0 || i >= src.size(0)) {
                throw new IndexOutOfBoundsException("row " + i + " of a shard of " + src.size(0));
            }
        }
        long row = src.size(1) * src.data().getElementSize();
        BytePointer from = new BytePointer(src.data().addressPointer());
        BytePointer to = new BytePointer(dst.data().addressPointer());
        long srcOffset = bytesIntoPointer(src);
        long dstOffset = bytesIntoPointer(dst);
        for (int i = 0; i < idx.length; i++) {
            Pointer.memcpy(to.position(dstOffset + i * row), from.position(srcOffset + idx[i] * row), row);
        }
        affinity.tagLocation(dst, AffinityManager.Location.HOST);
    }

    /**
     * Where {@code a}'s first element lies after its buffer's address pointer, in bytes (Pointer.memcpy counts its
     * pointers' positions in bytes): the pointer of a view's buffer already starts at the buffer's own offset.
     */
    private static long bytesIntoPointer(INDArray a) {
        return (a.offset() - a.data().offset()) * a.data().getElementSize();
    }

    /** Whether {@link #gemm} of these arrays goes straight to OpenBLAS (for the tests). */
    static boolean direct(INDArray a, INDArray b, INDArray c) {
        return HOST_BLAS && Layout.of(a) != null && Layout.of(b) != null && Layout.of(c) != null;
    }

    /** A float matrix whose elements BLAS can address in place: column- or row-major with a leading dimension. */
    private record Layout(boolean columnMajor, int ld) {
        static Layout of(INDArray m) {
            if (m.dataType() != DataType.FLOAT || m.rank() != 2 || m.length() == 0) {
                return null;
            }
            long rows = m.size(0);
            long cols = m.size(1);
            long[] stride = m.stride();
            if (stride[1] == 1 && (rows == 1 || stride[0] >= cols)) {
                return new Layout(false, (int) Math.max(cols, rows == 1 ? cols : stride[0]));
            }
            if (stride[0] == 1 && (cols == 1 || stride[1] >= rows)) {
                return new Layout(true, (int) Math.max(rows, cols == 1 ? rows : stride[1]));
            }
            return null;
        }
    }

    /** OpenBLAS's level-1 calls (loaded on first use, CPU backend only). */
    private static final class Vectors {
        static void copy(INDArray x, INDArray y) {
            openblas_nolapack.cblas_scopy((int) x.length(), pointer(x), 1, pointer(y), 1);
        }

        // axpy with alpha 1: the product is exact, so fused or not each element gets the one rounding of x + y
        static void add(INDArray x, INDArray y) {
            openblas_nolapack.cblas_saxpy((int) x.length(), 1f, pointer(x), 1, pointer(y), 1);
        }

        static void scale(float alpha, INDArray x) {
            openblas_nolapack.cblas_sscal((int) x.length(), alpha, pointer(x), 1);
        }
    }

    private static FloatPointer pointer(INDArray m) {
        // the data buffer's pointer starts at a view's first element (checked by the tests on parameter views)
        return new FloatPointer(m.data().addressPointer());
    }

    /** OpenBLAS's GEMM (loaded on first use, CPU backend only). */
    private static final class Matrices {
        static void sgemm(boolean transposeA, boolean transposeB, long m, long n, long k, double alpha, INDArray a,
                          int lda, INDArray b, int ldb, double beta, INDArray c, int ldc) {
            openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasColMajor,
                    transposeA ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
                    transposeB ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
                    (int) m, (int) n, (int) k, (float) alpha, pointer(a), lda, pointer(b), ldb, (float) beta,
                    pointer(c), ldc);
        }
    }
}
