package io.github.sparkdropout.model;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code C = alpha op(A) op(B) + beta C} for the lean step. On ND4J's CPU backend it calls OpenBLAS's
 * {@code cblas_sgemm} itself, the library and kernels ND4J's own GEMM ends in: ND4J's {@code Mmul} op first builds
 * a Java op object, an op context and native pointers, ~23 us a call measured here, and a step makes 14 of them,
 * ~10% of its time. Elsewhere (the CUDA backend) and for arrays BLAS cannot take as they are, ND4J's
 * {@link Nd4j#gemm}. Both give the same bits (tested).
 */
public final class Gemm {
    // the CUDA build carries no OpenBLAS natives: its class is never touched there
    private static final boolean HOST_BLAS = Nd4j.getEnvironment().isCPU();

    private Gemm() {
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
            HostBlas.sgemm(transposeA != !la.columnMajor, transposeB != !lb.columnMajor, c.size(0), c.size(1), k,
                    alpha, a, la.ld, b, lb.ld, beta, c, lc.ld);
        } else {
            HostBlas.sgemm(transposeB != lb.columnMajor, transposeA != la.columnMajor, c.size(1), c.size(0), k,
                    alpha, b, lb.ld, a, la.ld, beta, c, lc.ld);
        }
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

    /** The one place that touches OpenBLAS's natives (loaded on first use, CPU backend only). */
    private static final class HostBlas {
        static void sgemm(boolean transposeA, boolean transposeB, long m, long n, long k, double alpha, INDArray a,
                          int lda, INDArray b, int ldb, double beta, INDArray c, int ldc) {
            // the data buffers' pointers start at each view's first element (checked by the tests on parameter views)
            openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasColMajor,
                    transposeA ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
                    transposeB ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
                    (int) m, (int) n, (int) k, (float) alpha, pointer(a), lda, pointer(b), ldb, (float) beta,
                    pointer(c), ldc);
        }

        private static FloatPointer pointer(INDArray m) {
            return new FloatPointer(m.data().addressPointer());
        }
    }
}
