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

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

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
        GemmCall call = HOST_BLAS ? GemmCall.of(a, b, c, transposeA, transposeB) : null;
        if (call == null) {
            Nd4j.gemm(a, b, c, transposeA, transposeB, alpha, beta); // also ND4J's own message for wrong shapes
            return;
        }
        openblas_nolapack.cblas_sgemm(call.columnMajor ? openblas_nolapack.CblasColMajor : openblas_nolapack.CblasRowMajor,
                call.transposeA ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
                call.transposeB ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
                (int) call.m, (int) call.n, (int) call.k, (float) alpha, pointer(a), (int) call.lda, pointer(b),
                (int) call.ldb, (float) beta, pointer(c), (int) call.ldc);
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
        if (requested != null && !requested.isEmpty()) {
            return CoreName.LOADED + " (OPENBLAS_CORETYPE)";
        }
        if (CoreName.LOADED.equalsIgnoreCase(System.getProperty(KernelChoice.PROPERTY, ""))) {
            return CoreName.LOADED + " (chosen by this CPU's flags)";
        }
        String better = betterKernels(CoreName.LOADED, KernelChoice.cpuFlags());
        return CoreName.LOADED + (better == null ? " (auto-detected)" : " (auto-detected: OpenBLAS 0.3.19 does not know "
                + "this CPU, which runs " + better + " kernels several times faster; set OPENBLAS_CORETYPE=" + better + ")");
    }

    // OpenBLAS's x86-64 cores older than AVX2, which it also falls back to for a CPU it does not know
    private static final Set<String> PRE_AVX2_CORES = Set.of("katmai", "coppermine", "northwood", "prescott", "banias",
            "atom", "core2", "penryn", "dunnington", "nehalem", "sandybridge", "opteron", "opteron_sse3", "barcelona",
            "bobcat", "bulldozer", "piledriver", "steamroller", "excavator", "nano");

    /**
     * The kernel set to ask for where OpenBLAS auto-detected one older than this CPU runs (Intel's Emerald Rapids gets
     * Prescott's SSE3 kernels from OpenBLAS 0.3.19: 3.0 s epochs against 0.78 s with SkylakeX's, measured); null
     * where the detected set is as good as OpenBLAS has for it.
     */
    static String betterKernels(String core, Set<String> cpuFlags) {
        return PRE_AVX2_CORES.contains(core.toLowerCase(Locale.ROOT)) ? KernelChoice.bestFor(cpuFlags) : null;
    }

    /**
     * The choice {@code submit.sh} makes for the JVMs it starts (conf/local-jvm.sh), made inside a JVM it did not
     * start: where nobody set OPENBLAS_CORETYPE, ask OpenBLAS for the best kernel set this CPU's flags allow,
     * "SkylakeX" with AVX-512, "Haswell" with AVX2 and FMA, instead of its own detection, which falls back to SSE3
     * kernels on CPUs OpenBLAS 0.3.19 does not know. OpenBLAS reads the variable once, as it loads, so only a JVM that
     * has not loaded it yet can choose: an executor as it starts ({@code train.worker.ExecutorWarmUp}), the
     * command line's main. A class of its own: HostBlas's own statics load ND4J, and with it OpenBLAS.
     */
    public static final class KernelChoice {
        /** The system property that says which set this JVM asked for (for {@link #kernels()}'s line). */
        static final String PROPERTY = "sparkdropout.openblas.coretype";

        private KernelChoice() {
        }

        /**
         * Sets OPENBLAS_CORETYPE in this process's environment to {@link #bestFor} this CPU, unless it is set already
         * or OpenBLAS is loaded; returns the set asked for, or null where it left the choice to OpenBLAS.
         */
        public static String askForTheBest() {
            String requested = System.getenv("OPENBLAS_CORETYPE");
            if (requested != null && !requested.isEmpty() || System.getProperty(PROPERTY) != null
                    || Loader.getLoadedLibraries().keySet().stream().anyMatch(l -> l.startsWith("openblas"))) {
                return null;
            }
            String best = bestFor(cpuFlags());
            if (best == null) {
                return null;
            }
            try {
                // System.getenv is a copy taken at start-up: only libc's own environment reaches OpenBLAS's getenv
                int rc = NativeLibrary.getProcess().getFunction("setenv")
                        .invokeInt(new Object[]{"OPENBLAS_CORETYPE", best, 0});
                if (rc != 0) {
                    return null;
                }
            } catch (RuntimeException | LinkageError e) {
                LoggerFactory.getLogger(HostBlas.class).warn("cannot ask OpenBLAS for {} kernels", best, e);
                return null;
            }
            System.setProperty(PROPERTY, best);
            return best;
        }

        /**
         * "SkylakeX" where the CPU has AVX-512 (F, CD, BW, DQ, VL), "Haswell" where it has AVX2 and FMA, else null:
         * conf/local-jvm.sh's rule for the JVMs submit.sh starts.
         */
        public static String bestFor(Set<String> cpuFlags) {
            if (cpuFlags.containsAll(List.of("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"))) {
                return "SkylakeX";
            }
            return cpuFlags.containsAll(List.of("avx2", "fma")) ? "Haswell" : null;
        }

        /** This CPU's flags as /proc/cpuinfo lists them (SSE3 is "pni"); empty where there is no such file. */
        public static Set<String> cpuFlags() {
            try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
                return lines.filter(l -> l.startsWith("flags")).findFirst()
                        .map(l -> Set.of(l.substring(l.indexOf(':') + 1).trim().split("\\s+")))
                        .orElse(Set.of());
            } catch (IOException | UncheckedIOException e) {
                return Set.of();
            }
        }
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
        return HOST_BLAS && GemmCall.of(a, b, c, false, false) != null;
    }

    /**
     * The {@code cblas_sgemm} call ND4J's {@code Mmul} op makes for {@code C = op(A) op(B)} (libnd4j's
     * {@code MmulHelper::mmulMxM}, 1.0.0-M2), argument for argument: a dimension of 1 counts as contiguous, the
     * order is C's, and an operand is transposed where its contiguous dimension is not C's. The same product in
     * another form (e.g. one row as a 1 x K row-major matrix instead of a column-major one with lda 1) is summed in
     * another order by some kernel sets (Prescott's), so only ND4J's own form gives ND4J's bits under all of them.
     * Null where ND4J would copy an operand first (no contiguous dimension), for shapes that do not multiply, or
     * where BLAS could not take the strides as they are: ND4J's own op does those.
     */
    private record GemmCall(boolean columnMajor, boolean transposeA, boolean transposeB, long m, long n, long k,
                            long lda, long ldb, long ldc) {
        static GemmCall of(INDArray a, INDArray b, INDArray c, boolean transposeA, boolean transposeB) {
            if (!floatMatrix(a) || !floatMatrix(b) || !floatMatrix(c)) {
                return null;
            }
            long m = c.size(0);
            long n = c.size(1);
            long k = transposeA ? a.size(0) : a.size(1);
            if ((transposeA ? a.size(1) : a.size(0)) != m || (transposeB ? b.size(0) : b.size(1)) != n
                    || (transposeB ? b.size(1) : b.size(0)) != k) {
                return null;
            }
            // the strides of op(A) (M x K) and op(B) (K x N): a transposed operand is its view with strides swapped
            long[] sa = transposeA ? new long[]{a.stride(1), a.stride(0)} : new long[]{a.stride(0), a.stride(1)};
            long[] sb = transposeB ? new long[]{b.stride(1), b.stride(0)} : new long[]{b.stride(0), b.stride(1)};
            long[] sc = {c.stride(0), c.stride(1)};
            boolean aM = m == 1 || sa[0] == 1;
            boolean aK = k == 1 || sa[1] == 1;
            boolean bK = k == 1 || sb[0] == 1;
            boolean bN = n == 1 || sb[1] == 1;
            boolean cM = m == 1 || sc[0] == 1;
            boolean cN = n == 1 || sc[1] == 1;
            if (!aM && !aK || !bK && !bN || !cM && !cN) {
                return null;
            }
            GemmCall call = new GemmCall(cM, aM != cM, bK != cM, m, n, k,
                    aM && aK ? m : !aM ? sa[0] : sa[1],
                    bK && bN ? k : !bK ? sb[0] : sb[1],
                    cM && cN ? m : !cM ? sc[0] : sc[1]);
            return call.addressable() ? call : null;
        }

        private static boolean floatMatrix(INDArray x) {
            return x.dataType() == DataType.FLOAT && x.rank() == 2 && x.length() > 0;
        }

        /** Leading dimensions cblas_sgemm accepts: it refuses any other call with a message, computing nothing. */
        private boolean addressable() {
            // each operand's rows as stored: a column-major matrix's rows, a row-major one's columns
            long rowsA = columnMajor != transposeA ? m : k;
            long rowsB = columnMajor != transposeB ? k : n;
            long rowsC = columnMajor ? m : n;
            long largest = Math.max(Math.max(m, n), Math.max(k, Math.max(lda, Math.max(ldb, ldc))));
            return lda >= Math.max(1, rowsA) && ldb >= Math.max(1, rowsB) && ldc >= Math.max(1, rowsC)
                    && largest <= Integer.MAX_VALUE;
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
}
