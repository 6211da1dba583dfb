package io.github.sparkdropout.train;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every task reseeds its thread's ND4J RNG (the source of both variants' dropout masks) from
 * {@code mix(seed, partition, epoch, round)}: no two workers, epochs or rounds may share a seed, or replicas would
 * reuse each other's masks.
 */
class MaskSeedsTest {
    @Test
    void noTwoWorkersEpochsOrRoundsShareAMaskSeed() {
        Set<Long> seeds = new HashSet<>();
        int n = 0;
        for (long seed : new long[]{0, 42}) {
            for (int partition = 0; partition < 16; partition++) {
                for (int epoch = 0; epoch < 20; epoch++) {
                    for (int round = -1; round < 300; round++) { // -1: the epoch's shuffle seed
                        seeds.add(ResidentAveragingTrainingMaster.mix(seed, partition, epoch, round));
                        n++;
                    }
                }
            }
        }
        assertEquals(n, seeds.size(), "all distinct");
    }
}
