package io.github.sparkdropout.model;

/**
 * DL4J's configuration seed and ND4J's RNG both take seed 0 for "unseeded" and then draw from the clock, so a seed
 * the job derives (the book's {@code --seed 0}, or a mixed per-round seed that happens to be 0) is passed through
 * here: 0 becomes a fixed stand-in, every other seed stays as it is.
 */
public final class Nd4jSeeds {
    private static final long STAND_IN_FOR_ZERO = 0x5EED_0000_0000_0001L;

    private Nd4jSeeds() {
    }

    /** {@code seed}, or the fixed stand-in if it is 0. */
    public static long usable(long seed) {
        return seed != 0 ? seed : STAND_IN_FOR_ZERO;
    }
}
