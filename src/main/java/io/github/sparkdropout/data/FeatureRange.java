package io.github.sparkdropout.data;

import java.io.Serializable;
import java.util.Arrays;

/**
 * The range of each feature a network was trained on: per position, the smallest and largest value of the training
 * rows (as float32, what the network saw). Scorers flag rows with a value outside it: the network never saw such
 * values, so its predictions there are extrapolation (a test set scaled by a scaler fitted on the training set
 * strays a little outside; unscaled data lies far outside).
 */
public final class FeatureRange implements Serializable {
    private static final long serialVersionUID = 1L;

    private final double[] min;
    private final double[] max;

    public FeatureRange(double[] min, double[] max) {
        if (min.length != max.length) {
            throw new IllegalArgumentException("min has " + min.length + " features, max " + max.length);
        }
        this.min = min.clone();
        this.max = max.clone();
    }

    /** Every one of {@code size} features in [0, 1]: the range of Fashion-MNIST's scaled pixels. */
    public static FeatureRange unit(int size) {
        double[] max = new double[size];
        Arrays.fill(max, 1.0);
        return new FeatureRange(new double[size], max);
    }

    public int size() {
        return min.length;
    }

    public double[] min() {
        return min.clone();
    }

    public double[] max() {
        return max.clone();
    }

    /** The position of the first of {@code x[offset .. offset + size)} outside its feature's range, or -1. */
    public int firstOutside(float[] x, int offset) {
        for (int j = 0; j < min.length; j++) {
            float f = x[offset + j];
            if (f < min[j] || f > max[j]) {
                return j;
            }
        }
        return -1;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FeatureRange r && Arrays.equals(min, r.min) && Arrays.equals(max, r.max);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(min) + Arrays.hashCode(max);
    }
}
