package io.github.sparkdropout.job;

import io.github.sparkdropout.checkpoint.RunStore;
import io.github.sparkdropout.config.UsageException;
import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.spark.Deployment;
import org.apache.spark.SparkContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

import java.text.SimpleDateFormat;
import java.util.Date;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Where a run starts, with its settings resolved for this deployment: from nothing (a new run), or from the last
 * checkpoint of the run it continues ({@code --resume}, or the next application attempt of a YARN submission).
 *
 * @param completedEpochs epochs the checkpoint holds (0: a new run)
 * @param checkpoint      the state of the checkpoint it continues (null: a new run)
 * @param network         the checkpoint's network (null: a new run)
 */
record RunStart(TrainConfig settings, int completedEpochs, CheckpointState checkpoint, MultiLayerNetwork network) {
    static RunStart fresh(TrainConfig settings) {
        return new RunStart(settings, 0, null, null);
    }

    boolean continued() {
        return checkpoint != null;
    }

    /**
     * Run {@code runId}'s last checkpoint, with the flags {@code given} (the run's recorded settings otherwise; see
     * {@link TrainConfig#resumed}).
     */
    static RunStart resume(SparkContext sc, RunFiles files, String runId, Map<String, String> given) {
        OptionalInt last = files.store().lastCheckpoint(runId);
        if (last.isEmpty()) {
            throw new UsageException("run '" + runId + "' has no checkpoint in " + files.store().checkpointPath(runId,
                    1).getParent() + ": nothing to resume (check --metrics; a run that stopped before its first"
                    + " checkpoint is trained again under another --run-id)");
        }
        RunStore.Saved saved = files.store().checkpoint(runId, last.getAsInt());
        CheckpointState state = CheckpointState.of(saved);
        state.requireRun(runId, files.store().checkpointPath(runId, saved.epoch()));
        TrainConfig settings = TrainConfig.resumed(state.settings(), given).resolve(Deployment.of(sc), runId);
        return new RunStart(settings, saved.epoch(), state, saved.network());
    }

    /**
     * Whether this driver is YARN's next attempt of a submission whose run has a checkpoint this application wrote
     * (the run then continues instead of starting a second one). Rows an earlier attempt appended before any
     * checkpoint are dropped, so the run can start again under its id.
     */
    static boolean reattemptContinues(SparkContext sc, RunFiles files, String runId) {
        if (sc.applicationAttemptId().getOrElse(() -> "1").equals("1")) {
            return false;
        }
        OptionalInt saved = files.store().lastCheckpoint(runId);
        if (saved.isPresent()) {
            return sc.applicationId().equals(CheckpointState.of(files.store().checkpoint(runId, saved.getAsInt()))
                    .appId());
        }
        if (files.table().onlyWrittenBy(runId, sc.applicationId())) {
            files.table().supersede(runId, 1);
        }
        return false;
    }

    /**
     * The run id when none is given. Where the cluster manager may run the driver again for the same submission
     * (YARN cluster deploy mode: a new application attempt), it is the application id, which every attempt
     * shares, so a rerun finds its own run instead of starting a second one; else a timestamp and a random suffix.
     */
    static String generatedRunId(SparkContext sc) {
        return sc.applicationAttemptId().isDefined() ? sc.applicationId() : timestampRunId();
    }

    /** A timestamp and a random suffix: an id no other run of this second has. */
    static String timestampRunId() {
        return new SimpleDateFormat("yyyyMMdd-HHmmss").format(new Date()) + "-"
                + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0x10000));
    }
}
