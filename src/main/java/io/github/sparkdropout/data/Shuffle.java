package io.github.sparkdropout.data;

import java.util.SplittableRandom;

/** Seeded Fisher-Yates permutations: the same seed gives the same order on every JVM. */
public final class Shuffle {
    private Shuffle() {
    }

    public static int[] permutation(int n, long seed) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
