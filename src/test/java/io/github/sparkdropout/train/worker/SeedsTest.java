package io.github.sparkdropout.train.worker;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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

    /** ND4J takes seed 0 for "unseeded" (clock): the book's --seed 0 must still draw the same masks every run. */
    @Test
    void seedZeroDrawsTheSameMasksEveryTime() {
        long first = Seeds.masks(0, 0, 0, 0);
        assertNotEquals(0L, first);
        float[][] draws = new float[2][];
        for (int i = 0; i < 2; i++) {
            Nd4j.getRandom().setSeed(first);
            draws[i] = Nd4j.rand(DataType.FLOAT, 1, 64).toFloatVector();
        }
        assertArrayEquals(draws[0], draws[1]);
    }
}
