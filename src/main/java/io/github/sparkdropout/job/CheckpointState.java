package io.github.sparkdropout.job;

import io.github.sparkdropout.checkpoint.RunStore;
import io.github.sparkdropout.config.UsageException;
import io.github.sparkdropout.data.DataException;
import io.github.sparkdropout.data.DataProvenance;
import io.github.sparkdropout.metrics.RunInfo;

import java.sql.Timestamp;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a checkpoint records beside the network, to continue the run exactly: which run and epoch, the run's
 * resolved settings (every flag; the workers' randomness derives from the seed and the epoch, so nothing else is
 * needed), when the run started, the Spark application that wrote it, the checksums of the data it trained on, and
 * the code that trained it. This record is the one place that names the keys it is stored under.
 */
record CheckpointState(String runId, int epoch, Map<String, String> settings, Timestamp runStartedAt, String appId,
                       Checksums train, Checksums test, String projectVersion, String gitCommit) {
    private static final String SETTING = "setting.";

    /** The SHA-256 of one side's uncompressed IDX content (images and labels). */
    record Checksums(String images, String labels) {
        static Checksums of(DataProvenance data) {
            return new Checksums(data.imagesSha256(), data.labelsSha256());
        }
    }

    /** The state of {@code run}'s checkpoint after {@code epoch}. */
    static CheckpointState of(RunInfo run, int epoch) {
        return new CheckpointState(run.runId(), epoch, run.config().toFlags(), run.startedAt(), run.appId(),
                Checksums.of(run.train()), Checksums.of(run.test()), run.projectVersion(), run.gitCommit());
    }

    /** As stored in the checkpoint's properties entry. */
    Map<String, String> toProperties() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("run-id", runId);
        p.put("epoch", Integer.toString(epoch));
        settings.forEach((flag, value) -> p.put(SETTING + flag, value));
        p.put("run-started-at", Long.toString(runStartedAt.getTime()));
        p.put("app-id", appId);
        p.put("train-images-sha256", train.images());
        p.put("train-labels-sha256", train.labels());
        p.put("test-images-sha256", test.images());
        p.put("test-labels-sha256", test.labels());
        p.put("project-version", projectVersion);
        p.put("git-commit", gitCommit);
        return p;
    }

    /** The state {@code saved} holds; a checkpoint that lacks part of it is refused, naming what is missing. */
    static CheckpointState of(RunStore.Saved saved) {
        Map<String, String> p = saved.state();
        Map<String, String> settings = new LinkedHashMap<>();
        p.forEach((k, v) -> {
            if (k.startsWith(SETTING)) {
                settings.put(k.substring(SETTING.length()), v);
            }
        });
        String epoch = required(p, "epoch");
        String started = required(p, "run-started-at");
        try {
            return new CheckpointState(required(p, "run-id"), Integer.parseInt(epoch), settings,
                    new Timestamp(Long.parseLong(started)), required(p, "app-id"),
                    new Checksums(required(p, "train-images-sha256"), required(p, "train-labels-sha256")),
                    new Checksums(required(p, "test-images-sha256"), required(p, "test-labels-sha256")),
                    p.getOrDefault("project-version", "unknown"), p.getOrDefault("git-commit", "unknown"));
        } catch (NumberFormatException e) {
            throw new IllegalStateException("the checkpoint of epoch " + saved.epoch() + " records a malformed number"
                    + " (epoch '" + epoch + "', run-started-at '" + started + "')", e);
        }
    }

    private static String required(Map<String, String> p, String key) {
        String v = p.get(key);
        if (v == null) {
            throw new IllegalStateException("the checkpoint records no " + key + ": not a checkpoint of this job's"
                    + " format");
        }
        return v;
    }

    /**
     * A run continues only under its own id: a checkpoint that records another (a copied or renamed run directory)
     * would have the resume write into that other run: its rows, its checkpoints, its model.zip.
     */
    void requireRun(String resumed, org.apache.hadoop.fs.Path where) {
        if (!runId.equals(resumed)) {
            throw new UsageException(where + " is a checkpoint of run '" + runId + "', not of '" + resumed + "' (a"
                    + " copied or renamed run directory?): nothing was written; resume '" + runId + "' itself, or"
                    + " train a new run");
        }
    }

    /** A resumed run must train on the very data it started with, wherever that data now lives. */
    void requireSameData(String location, DataProvenance trainNow, DataProvenance testNow) {
        requireSame(location, "train", train, Checksums.of(trainNow));
        requireSame(location, "test", test, Checksums.of(testNow));
    }

    private void requireSame(String location, String side, Checksums recorded, Checksums now) {
        String what = !recorded.images().equals(now.images()) ? "images" : !recorded.labels().equals(now.labels())
                ? "labels" : null;
        if (what != null) {
            String nowSum = what.equals("images") ? now.images() : now.labels();
            String wasSum = what.equals("images") ? recorded.images() : recorded.labels();
            throw new DataException(location + ": not the data run '" + runId + "' trained on (" + side + " " + what
                    + " sha256 " + nowSum.substring(0, 12) + "..., the run's " + wasSum.substring(0, 12) + "...)");
        }
    }
}
