package io.github.sparkdropout.eval;

/**
 * One test evaluation. {@code confusion[actual][predicted]} counts examples; per-class arrays are indexed by label.
 */
public record EvalResult(double accuracy, long examples, double[] precision, double[] recall, double[] f1,
                         long[] support, long[][] confusion) {
}
