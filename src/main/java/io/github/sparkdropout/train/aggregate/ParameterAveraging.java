package io.github.sparkdropout.train.aggregate;

import java.util.List;

/**
 * DL4J's parameter averaging: the plain mean of the parameter vectors of the workers that trained in a round, summed
 * in the order given (partition order, so every transport computes bit-identical means).
 */
public final class ParameterAveraging {
    private ParameterAveraging() {
    }

    /** The mean of the contributions that trained, or null if none did. */
    public static float[] mean(List<Contribution> contributions) {
        float[] sum = null;
        int n = 0;
        for (Contribution c : contributions) {
            if (!c.trained()) {
                continue;
            }
            if (sum == null) {
                sum = c.params().clone();
            } else {
                float[] p = c.params();
                if (p.length != sum.length) {
                    throw new IllegalArgumentException("parameter vectors of " + sum.length + " and " + p.length
                            + " values cannot be averaged");
                }
                for (int i = 0; i < sum.length; i++) {
                    sum[i] += p[i];
                }
            }
            n++;
        }
        if (sum != null && n > 1) {
            float inv = 1.0f / n;
            for (int i = 0; i < sum.length; i++) {
                sum[i] *= inv;
            }
        }
        return sum;
    }

    /** Examples the contributions trained on. */
    public static long examples(List<Contribution> contributions) {
        long n = 0;
        for (Contribution c : contributions) {
            n += c.examples();
        }
        return n;
    }
}
