package io.github.sparkdropout.model;

import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.ScalarOp;
import org.nd4j.linalg.api.ops.impl.scalar.RectifiedLinear;
import org.nd4j.linalg.api.ops.impl.scalar.ScalarMultiplication;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOps;
import org.nd4j.nativeblas.NativeOpsHolder;
import org.nd4j.nativeblas.OpaqueDataBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Arrays;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;

/**
 * The element-wise ops of the training step (ReLU, step, scaling, the product of two arrays), on ND4J's CPU backend
 * called straight into libnd4j's own loops, the ones ND4J's ops end in. An ND4J op call first builds a Java op
 * object, looks up its pointers and, for the product ({@link MulOp}, a custom op), an op context: on the step's
 * arrays that costs several times the loop itself, and a step makes 14 such calls.
 *
 * <p>Same loops, same bits: each prepared op is checked against ND4J's own op on test values when it is prepared
 * (the product once), and runs as ND4J's op if it differs (another ND4J version numbering its loops otherwise), with
 * a warning ({@link LostFastPaths}). Elsewhere (the CUDA backend), and for arrays that are not dense float arrays of
 * one shape and layout, ND4J's ops. With {@link HostBlas}, the only class calling native code.
 */
final class HostOps {
    private static final Logger LOG = LoggerFactory.getLogger(HostOps.class);
    private static final String INSTEAD = "ND4J's own op";
    /** libnd4j's calls and the buffer accessor; null off the CPU backend or if they cannot be reached. */
    private static final Native NATIVE = Native.load();
    /** libnd4j's legacy pairwise Multiply (ND4J's MulOp is a custom op with no legacy number to ask for). */
    private static final int PAIRWISE_MULTIPLY = 3;
    private static final boolean MULTIPLY_DIRECT = NATIVE != null && multiplyChecks();

    private HostOps() {
    }

    /** Whether {@link #multiply} of these arrays goes straight to libnd4j's loop (for the tests). */
    static boolean direct(INDArray x, INDArray y, INDArray z) {
        return MULTIPLY_DIRECT && floatsOfOneShape(x, y) && floatsOfOneShape(x, z);
    }

    /** {@code z = x * y}, element by element (ND4J's {@link MulOp}). */
    static void multiply(INDArray x, INDArray y, INDArray z) {
        if (direct(x, y, z)) {
            NATIVE.pairwise(PAIRWISE_MULTIPLY, x, y, z);
        } else {
            Nd4j.exec(new MulOp(x, y, z));
        }
    }

    /** ND4J's ReLU ({@link RectifiedLinear}, cutoff 0). */
    static Scalar relu() {
        return new Scalar(RectifiedLinear::new);
    }

    /** ND4J's {@link Step}: 1 where x > cutoff, else 0. */
    static Scalar step(double cutoff) {
        return new Scalar((x, z) -> new Step(x, z, cutoff));
    }

    /** ND4J's {@link ScalarMultiplication} by {@code factor}. */
    static Scalar times(double factor) {
        return new Scalar((x, z) -> new ScalarMultiplication(x, null, z, factor));
    }

    /** A scalar op prepared once (its loop number, scalar and extra arguments) and applied to any float arrays. */
    static final class Scalar {
        private final BiFunction<INDArray, INDArray, ScalarOp> op;
        private final int opNum;
        private final INDArray scalar;
        private final DataBuffer extraArgs;
        private final boolean direct;

        private Scalar(BiFunction<INDArray, INDArray, ScalarOp> op) {
            this.op = op;
            INDArray probe = Nd4j.createUninitializedDetached(DataType.FLOAT, 1);
            ScalarOp prototype = op.apply(probe, probe);
            this.opNum = prototype.opNum();
            this.scalar = prototype.scalar();
            this.extraArgs = prototype.extraArgs() == null ? null : prototype.extraArgsDataBuff(DataType.FLOAT);
            String what = "libnd4j's scalar loop " + opNum + " (" + prototype.getClass().getSimpleName() + ")";
            if (NATIVE == null) {
                this.direct = false;
            } else if (scalar == null || scalar.dataType() != DataType.FLOAT) {
                LostFastPaths.warn(LOG, what, "ND4J's op holds no float scalar: "
                        + (scalar == null ? "none" : scalar.dataType()), INSTEAD, null);
                this.direct = false;
            } else {
                this.direct = checks(what);
            }
        }

        /** Whether {@link #apply} of these arrays goes straight to libnd4j's loop (for the tests). */
        boolean direct(INDArray x, INDArray z) {
            return direct && floatsOfOneShape(x, z);
        }

        /** {@code z = op(x)}; {@code z} may be {@code x}. */
        void apply(INDArray x, INDArray z) {
            if (direct(x, z)) {
                NATIVE.scalar(opNum, x, z, scalar, extraArgs);
            } else {
                Nd4j.exec(op.apply(x, z));
            }
        }

        private boolean checks(String what) {
            return sameAsNd4j(what, (x, out) -> Nd4j.exec(op.apply(x, out)),
                    (x, out) -> NATIVE.scalar(opNum, x, out, scalar, extraArgs));
        }
    }

    private static boolean multiplyChecks() {
        INDArray y = testValues().muli(-3).addi(0.25);
        return sameAsNd4j("libnd4j's pairwise loop " + PAIRWISE_MULTIPLY + " (Multiply)",
                (x, out) -> Nd4j.exec(new MulOp(x, y, out)), (x, out) -> NATIVE.pairwise(PAIRWISE_MULTIPLY, x, y, out));
    }

    /**
     * Whether {@code direct} writes exactly ND4J's bits for the test values (a failure counts as a difference); if
     * not, the warning that {@code what} is lost.
     */
    private static boolean sameAsNd4j(String what, BiConsumer<INDArray, INDArray> nd4j,
                                      BiConsumer<INDArray, INDArray> direct) {
        INDArray x = testValues();
        INDArray want = x.ulike();
        nd4j.accept(x, want);
        INDArray got = x.ulike();
        try {
            direct.accept(x, got);
        } catch (RuntimeException e) {
            LostFastPaths.warn(LOG, what, "it failed on test values: " + e, INSTEAD, e);
            return false;
        }
        return sameBits(want, got, what);
    }

    /** Values either side of 0 and of the dropout probabilities, zeros and a non-finite one, as a 7 x 9 matrix. */
    private static INDArray testValues() {
        float[] v = new float[63];
        for (int i = 0; i < v.length; i++) {
            v[i] = (i - 31) / 16f; // -1.9375 .. 1.9375, with 0, 0.2 (ish), 0.5 exactly
        }
        v[5] = Float.POSITIVE_INFINITY;
        v[6] = -0f;
        return Nd4j.createFromArray(v).reshape('c', 7, 9).detach();
    }

    private static boolean sameBits(INDArray want, INDArray got, String what) {
        float[] w = want.reshape(want.length()).toFloatVector();
        float[] g = got.reshape(got.length()).toFloatVector();
        for (int i = 0; i < w.length; i++) {
            if (Float.floatToRawIntBits(w[i]) != Float.floatToRawIntBits(g[i])) {
                LostFastPaths.warn(LOG, what, "it differs from ND4J's op on test value " + i + ": " + g[i] + " where"
                        + " ND4J gives " + w[i], INSTEAD, null);
                return false;
            }
        }
        return true;
    }

    /** Two float arrays of one shape and one dense layout, not views: what the prepared ops were checked on. */
    private static boolean floatsOfOneShape(INDArray a, INDArray b) {
        return a.dataType() == DataType.FLOAT && b.dataType() == DataType.FLOAT && a.length() > 0
                && Arrays.equals(a.shape(), b.shape()) && a.ordering() == b.ordering() && !a.isView() && !b.isView()
                && a.elementWiseStride() == 1 && b.elementWiseStride() == 1;
    }

    /** libnd4j's legacy loops, called as ND4J's CPU executioner calls them. */
    private static final class Native {
        private final NativeOps ops;
        private final MethodHandle opaque; // BaseCpuDataBuffer.getOpaqueDataBuffer (not in the CUDA build)
        private final PointerPointer<?> noExtraPointers = new PointerPointer<>(32);

        private Native(NativeOps ops, MethodHandle opaque) {
            this.ops = ops;
            this.opaque = opaque;
        }

        static Native load() {
            try {
                if (!Nd4j.getEnvironment().isCPU()) {
                    return null;
                }
                Class<?> cpuBuffer = Class.forName("org.nd4j.linalg.cpu.nativecpu.buffer.BaseCpuDataBuffer");
                MethodHandle opaque = MethodHandles.publicLookup().findVirtual(cpuBuffer, "getOpaqueDataBuffer",
                        MethodType.methodType(OpaqueDataBuffer.class))
                        .asType(MethodType.methodType(OpaqueDataBuffer.class, DataBuffer.class));
                return new Native(NativeOpsHolder.getInstance().getDeviceNativeOps(), opaque);
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                LostFastPaths.warn(LOG, "libnd4j's element-wise loops, called directly", "cannot reach them: " + e,
                        INSTEAD, e);
                return null;
            }
        }

        void scalar(int opNum, INDArray x, INDArray z, INDArray scalar, DataBuffer extraArgs) {
            ops.execScalar(null, opNum, buffer(x), shape(x), null, buffer(z), shape(z), null,
                    buffer(scalar), shape(scalar), null, extraArgs == null ? null : extraArgs.addressPointer());
            checkError();
        }

        void pairwise(int opNum, INDArray x, INDArray y, INDArray z) {
            ops.execPairwiseTransform(noExtraPointers, opNum, buffer(x), shape(x), null, buffer(y), shape(y), null,
                    buffer(z), shape(z), null, (Pointer) null);
            checkError();
        }

        private void checkError() {
            if (ops.lastErrorCode() != 0) {
                throw new RuntimeException(ops.lastErrorMessage());
            }
        }

        private OpaqueDataBuffer buffer(INDArray a) {
            try {
                return (OpaqueDataBuffer) opaque.invokeExact(a.data());
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        private static LongPointer shape(INDArray a) {
            return (LongPointer) a.shapeInfoDataBuffer().addressPointer();
        }
    }
}
