package io.github.sparkdropout.train.worker;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Every worker task reseeds its thread's ND4J RNG (the source of both variants' dropout masks) per (seed, partition,
 * epoch, round), and its shuffle per (seed, partition, epoch): no two workers, epochs or rounds may share a seed, or
 * replicas would reuse each other's masks.
 */
class SeedsTest {
    @Test
    void noTwoWorkersEpochsOrRoundsShareASeed() {
        Set<Long> seeds = new HashSet<>();
        int n = 0;
        for (long seed : new long[]{0, 42}) {
            for (int partition = 0; partition < 16; partition++) {
                for (int epoch = 0; epoch < 20; epoch++) {
                    seeds.add(Seeds.shuffle(seed, partition, epoch));
                    n++;
                    for (int round = 0; round < 300; round++) {
                        seeds.add(Seeds.masks(seed, partition, epoch, round));
                        n++;
                    }
                }
            }
        }
        assertEquals(n, seeds.size(), "all distinct");
        assertThrows(IllegalArgumentException.class, () -> Seeds.masks(0, 0, 0, -1));
    }
}
