package io.github.sparkdropout.job;

import io.github.sparkdropout.checkpoint.RunStore;
import io.github.sparkdropout.config.UsageException;
import io.github.sparkdropout.config.Setting;
import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.replica.NativeThreads;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

import java.util.Map;
import java.util.OptionalInt;

/**
 * A trained run as its checkpoints saved it: the network after one epoch and the settings it was trained with,
 * found under a metrics location. What {@code evaluate} and {@code predict} start from.
 */
record SavedRun(String runId, int epoch, MultiLayerNetwork network, CheckpointState state) {
    /** Run {@code runId} after {@code epoch} (null: its last checkpoint) under the metrics location {@code metrics}. */
    static SavedRun load(RunStore store, String metrics, String runId, Integer epoch) {
        OptionalInt last = store.lastCheckpoint(runId);
        if (last.isEmpty()) {
            throw new UsageException("run '" + runId + "' has no saved model in " + metrics + "/models/" + runId
                    + " (check --run-id and --metrics)");
        }
        int e = epoch == null ? last.getAsInt() : epoch;
        if (e < 1 || !store.exists(store.checkpointPath(runId, e))) {
            throw new UsageException("run '" + runId + "' has no checkpoint of epoch " + e + " (epochs 1-"
                    + last.getAsInt() + " are saved)");
        }
        RunStore.Saved saved = store.checkpoint(runId, e);
        return new SavedRun(runId, e, saved.network(), CheckpointState.of(saved));
    }

    /** The native threads each of the run's workers used (a stock-master run capped none). */
    int threadsPerWorker() {
        Integer t = setting(TrainConfig.THREADS_PER_WORKER, Map.of());
        return t == null ? NativeThreads.UNCAPPED : t;
    }

    /** The setting {@code p} the run was trained with, unless {@code overrides} gives it. */
    <T> T setting(Setting<T> p, Map<String, String> overrides) {
        String raw = overrides.getOrDefault(p.name(), state.settings().get(p.name()));
        if (raw == null) {
            throw new IllegalStateException("the checkpoint of run " + runId + " records no --" + p.name());
        }
        return p.parse(raw);
    }
}
