package io.github.sparkdropout.bench;

import io.github.sparkdropout.model.MlpShape;
import io.github.sparkdropout.model.DropoutMlp;
import io.github.sparkdropout.model.HostBlas;
import io.github.sparkdropout.model.MinibatchStep;
import io.github.sparkdropout.model.StepKind;
import io.github.sparkdropout.model.Variant;
import io.github.sparkdropout.replica.NativeThreads;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The lean step against a plain GEMM of the same shapes (bench/step-vs-gemm.sh, issue 12): {@code W} worker threads
 * at once, as local mode runs them, each with 1 native thread and a batch of {@code B}; per thread, first only the
 * step's GEMMs (forward, the two back-propagated errors, the weight and bias updates, with the step's transposes),
 * then the whole lean step of the book's net on the same data. Prints one RESULT line per thread: milliseconds a
 * step (best of 5 x 400 steps) and GFLOP/s, counting the GEMMs' floating-point operations in both.
 */
public final class StepBench {
    private StepBench() {
    }

    public static void main(String[] args) throws Exception {
        int batch = Integer.parseInt(args[0]);
        int workers = Integer.parseInt(args[1]);
        Variant variant = Variant.valueOf(args.length > 2 ? args[2].toUpperCase(Locale.ROOT) : "SCRATCH");
        List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            int worker = w;
            Thread t = new Thread(() -> {
                NativeThreads.limit(1); // per thread, as each task does
                lines.add(measure(worker, batch, variant));
            }, "worker-" + w);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        lines.forEach(System.out::println);
    }

    /** Multiply-adds x 2 of one step's GEMMs for a batch of {@code b} (784-256-256-10, no input gradient). */
    static double flopsPerStep(int b) {
        return 2.0 * b * (784 * 256 * 2 + 256 * 256 * 3 + 256 * 10 * 3 + 256 + 256 + 10);
    }

    private static String measure(int worker, int b, Variant variant) {
        Nd4j.getRandom().setSeed(17 + worker);
        INDArray x = Nd4j.rand(DataType.FLOAT, b, 784);
        INDArray w1 = Nd4j.rand(DataType.FLOAT, 'f', 784, 256);
        INDArray w2 = Nd4j.rand(DataType.FLOAT, 'f', 256, 256);
        INDArray w3 = Nd4j.rand(DataType.FLOAT, 'f', 256, 10);
        INDArray b1 = Nd4j.rand(DataType.FLOAT, 1, 256);
        INDArray b2 = Nd4j.rand(DataType.FLOAT, 1, 256);
        INDArray b3 = Nd4j.rand(DataType.FLOAT, 1, 10);
        INDArray z1 = Nd4j.rand(DataType.FLOAT, b, 256);
        INDArray z2 = Nd4j.rand(DataType.FLOAT, b, 256);
        INDArray z3 = Nd4j.rand(DataType.FLOAT, b, 10);
        INDArray d1 = Nd4j.rand(DataType.FLOAT, b, 256);
        INDArray d2 = Nd4j.rand(DataType.FLOAT, b, 256);
        INDArray ones = Nd4j.ones(DataType.FLOAT, 1, b);
        double tiny = -1e-12; // updates that leave the weights as they are, at the cost of a real update
        double gemm = best(() -> {
            HostBlas.gemm(x, w1, z1, false, false, 1, 0);
            HostBlas.gemm(ones, b1, z1, true, false, 1, 1);
            HostBlas.gemm(z1, w2, z2, false, false, 1, 0);
            HostBlas.gemm(ones, b2, z2, true, false, 1, 1);
            HostBlas.gemm(z2, w3, z3, false, false, 1, 0);
            HostBlas.gemm(ones, b3, z3, true, false, 1, 1);
            HostBlas.gemm(z3, w3, d2, false, true, 1, 0);
            HostBlas.gemm(z2, z3, w3, true, false, tiny, 1);
            HostBlas.gemm(ones, z3, b3, false, false, tiny, 1);
            HostBlas.gemm(d2, w2, d1, false, true, 1, 0);
            HostBlas.gemm(z1, d2, w2, true, false, tiny, 1);
            HostBlas.gemm(ones, d2, b2, false, false, tiny, 1);
            HostBlas.gemm(x, d1, w1, true, false, tiny, 1);
            HostBlas.gemm(ones, d1, b1, false, false, tiny, 1);
        });
        MultiLayerNetwork net = DropoutMlp.create(variant, 0.5, MlpShape.book(0.2, 0.5), 1 + worker);
        MinibatchStep step = MinibatchStep.of(StepKind.LEAN, net);
        INDArray y = Nd4j.zeros(DataType.FLOAT, b, 10);
        for (int i = 0; i < b; i++) {
            y.putScalar(i, i % 10, 1f);
        }
        double lean = best(() -> step.step(net, x, y));
        double flops = flopsPerStep(b);
        return String.format(Locale.ROOT, "RESULT worker=%d batch=%d variant=%s gemm_ms=%.3f gemm_gflops=%.1f"
                + " step_ms=%.3f step_gflops=%.1f step/gemm=%.2f", worker, b, variant.name().toLowerCase(Locale.ROOT),
                gemm * 1e3, flops / gemm / 1e9, lean * 1e3, flops / lean / 1e9, lean / gemm);
    }

    /** Seconds a call of {@code r}: the best of 5 timed loops of 400 calls, after 200 to warm up. */
    private static double best(Runnable r) {
        for (int i = 0; i < 200; i++) {
            r.run();
        }
        long best = Long.MAX_VALUE;
        for (int rep = 0; rep < 5; rep++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < 400; i++) {
                r.run();
            }
            best = Math.min(best, System.nanoTime() - t0);
        }
        return best / 1e9 / 400;
    }
}
