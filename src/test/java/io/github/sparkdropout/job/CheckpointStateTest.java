package io.github.sparkdropout.job;

import io.github.sparkdropout.Deployments;
import io.github.sparkdropout.checkpoint.RunStore;
import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.data.DataException;
import io.github.sparkdropout.data.FashionMnist;
import io.github.sparkdropout.metrics.RunInfo;
import org.junit.jupiter.api.Test;

import java.sql.Timestamp;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A checkpoint's state is written and read in one place, and says which run it belongs to. */
class CheckpointStateTest {
    private static FashionMnist.Split split(String name, String images, String labels) {
        return new FashionMnist.Split(name, 1, new byte[784], new byte[1], images, labels, false);
    }

    private static final FashionMnist.Split TRAIN = split("train", "a".repeat(64), "b".repeat(64));
    private static final FashionMnist.Split TEST = split("test", "c".repeat(64), "d".repeat(64));

    private static CheckpointState state(String runId, int epoch) {
        TrainConfig cfg = TrainConfig.of(Map.of("run-id", runId)).resolve(Deployments.of(2, 2, 2), "x");
        RunInfo run = new RunInfo(runId, new Timestamp(1_700_000_000_000L), cfg, "local[2]", 1, "app-7", "3.5.9",
                "0.1.0", "abc", TRAIN, TEST, null);
        return CheckpointState.of(run, epoch);
    }

    @Test
    void readsBackWhatItWrote() {
        CheckpointState written = state("r1", 3);
        CheckpointState read = CheckpointState.of(new RunStore.Saved(3, written.toProperties(), null));
        assertEquals(written, read);
        assertEquals("r1", read.settings().get("run-id"));
        assertEquals(3, read.epoch());
    }

    @Test
    void otherDataIsRefusedNamingTheRunAndWhatDiffers() {
        CheckpointState state = CheckpointState.of(new RunStore.Saved(2, state("the-run", 2).toProperties(), null));
        DataException e = assertThrows(DataException.class, () -> state.requireSameData("elsewhere", TRAIN,
                split("test", "c".repeat(64), "e".repeat(64))));
        assertEquals("elsewhere: not the data run 'the-run' trained on (test labels sha256 eeeeeeeeeeee..., the"
                + " run's dddddddddddd...)", e.getMessage());
        state.requireSameData("same", TRAIN, TEST); // the very data: no complaint
    }

    @Test
    void aCheckpointWithoutPartOfItsStateIsRefusedByName() {
        Map<String, String> p = new HashMap<>(state("r2", 1).toProperties());
        p.remove("run-id");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> CheckpointState.of(new RunStore.Saved(1, p, null)));
        assertTrue(e.getMessage().contains("records no run-id"), e.getMessage());
    }
}
