package io.github.sparkdropout.job;

import io.github.sparkdropout.checkpoint.RunStore;
import io.github.sparkdropout.data.DataException;
import io.github.sparkdropout.data.FashionMnist;
import io.github.sparkdropout.metrics.RunInfo;

import java.sql.Timestamp;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a checkpoint records beside the network, to continue the run exactly: its resolved settings (every flag;
 * the workers' randomness derives from the seed and the epoch, so nothing else is needed), when it started, and
 * the checksums of the data it trained on.
 */
final class Checkpoints {
    private static final String SETTING = "setting.";
    /** The Spark application that wrote the checkpoint: a rerun of the same application continues the run. */
    static final String APP_ID = "app-id";

    private Checkpoints() {
    }

    static Map<String, String> state(RunInfo run) {
        Map<String, String> state = new LinkedHashMap<>();
        run.config().toFlags().forEach((flag, value) -> state.put(SETTING + flag, value));
        state.put("run-started-at", Long.toString(run.startedAt().getTime()));
        state.put(APP_ID, run.appId());
        state.put("train-images-sha256", run.train().imagesSha256());
        state.put("train-labels-sha256", run.train().labelsSha256());
        state.put("test-images-sha256", run.test().imagesSha256());
        state.put("test-labels-sha256", run.test().labelsSha256());
        state.put("project-version", run.projectVersion());
        state.put("git-commit", run.gitCommit());
        return state;
    }

    /** The run's resolved settings, as flags. */
    static Map<String, String> settings(RunStore.Saved checkpoint) {
        Map<String, String> flags = new LinkedHashMap<>();
        checkpoint.state().forEach((k, v) -> {
            if (k.startsWith(SETTING)) {
                flags.put(k.substring(SETTING.length()), v);
            }
        });
        return flags;
    }

    static Timestamp runStartedAt(RunStore.Saved checkpoint) {
        return new Timestamp(Long.parseLong(checkpoint.state().get("run-started-at")));
    }

    /** A resumed run must train on the very data it started with, wherever that data now lives. */
    static void requireSameData(RunStore.Saved checkpoint, String location, FashionMnist.Split train,
                                FashionMnist.Split test) {
        Map<String, String> now = Map.of("train-images-sha256", train.imagesSha256(),
                "train-labels-sha256", train.labelsSha256(), "test-images-sha256", test.imagesSha256(),
                "test-labels-sha256", test.labelsSha256());
        for (Map.Entry<String, String> e : now.entrySet()) {
            String recorded = checkpoint.state().get(e.getKey());
            if (!e.getValue().equals(recorded)) {
                throw new DataException(location + ": not the data run '" + checkpoint.state().get("run-id")
                        + "' trained on (" + e.getKey().replace('-', ' ') + " " + e.getValue().substring(0, 12)
                        + "..., the run's " + (recorded == null ? "unknown" : recorded.substring(0, 12) + "...") + ")");
            }
        }
    }
}
