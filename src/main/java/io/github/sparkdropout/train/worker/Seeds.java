package io.github.sparkdropout.train.worker;

import io.github.sparkdropout.model.Nd4jSeeds;

/**
 * The seeds of a run's randomness on the workers, derived from the run seed and the coordinates of the work, so
 * that no two workers, epochs or rounds share a stream and any epoch can be replayed exactly (a retried epoch, a
 * resumed run): each worker's shuffle of its shard per (partition, epoch), and its dropout masks per (partition,
 * epoch, round).
 */
public final class Seeds {
    private static final long SHUFFLE = -1; // the masks' rounds are >= 0

    private Seeds() {
    }

    /** Seed of the shuffle of {@code partition}'s shard in {@code epoch}. */
    public static long shuffle(long seed, int partition, int epoch) {
        return mix(seed, partition, epoch, SHUFFLE);
    }

    /** Seed of the ND4J RNG (dropout masks) of {@code partition} in {@code round} of {@code epoch}. */
    public static long masks(long seed, int partition, int epoch, int round) {
        if (round < 0) {
            throw new IllegalArgumentException("round " + round);
        }
        return mix(seed, partition, epoch, round);
    }

    /**
     * A well-mixed seed from the run seed and the coordinates (SplitMix64 finaliser). Never 0: ND4J's RNG takes 0 for
     * "unseeded" and draws from the clock, and the finaliser maps exactly one input, seed 0's first round of
     * partition 0, to 0 (which would make {@code --seed 0} runs differ from run to run).
     */
    private static long mix(long seed, long partition, long epoch, long round) {
        long z = seed ^ (partition * 0x9E3779B97F4A7C15L) ^ (epoch * 0xC2B2AE3D27D4EB4FL) ^ (round * 0x165667B19E3779F9L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return Nd4jSeeds.usable(z ^ (z >>> 31));
    }
}
