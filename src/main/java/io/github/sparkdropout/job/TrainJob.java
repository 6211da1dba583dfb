package io.github.sparkdropout.job;

import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.config.UsageException;
import io.github.sparkdropout.data.ReadAhead;
import io.github.sparkdropout.metrics.MetricsTable;
import io.github.sparkdropout.model.JitChoice;
import io.github.sparkdropout.model.Nd4jBackends;
import io.github.sparkdropout.spark.Deployment;
import io.github.sparkdropout.train.ExecutorLosses;
import io.github.sparkdropout.train.TrainingMasterKind;
import org.apache.spark.SparkContext;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

import java.io.PrintStream;
import java.util.Map;

/**
 * The training job, shaped like the book's {@code train_ch3}: where the run starts ({@link RunStart}: a new run, a
 * resumed one, or YARN's next attempt of the same submission), its data in Spark ({@link TrainingData.Source}: the
 * IDX files, or an Estimator's frame), then its epochs ({@link EpochLoop}: train, evaluate, record, then the final
 * model and curves), written by the one driver that holds the run's {@link RunClaim}. A run continues from its last
 * checkpoint exactly: the workers' randomness is derived from (seed, partition, epoch, round), so the resumed epochs
 * are the ones an uninterrupted run trains.
 */
public final class TrainJob {
    private final SparkSession spark;
    private final RunOutput output;
    private ReadAhead readAhead; // a new run's files, being read while Spark started (null: none)
    private RunClaim held; // the claim of the run this command records (checked before each write)

    public TrainJob(SparkSession spark, RunOutput output) {
        this.spark = spark;
        this.output = output;
    }

    /** A new run ({@link #run(TrainConfig)}) takes its files from {@code ahead} if they are the ones it needs. */
    public TrainJob readingAhead(ReadAhead ahead) {
        this.readAhead = ahead;
        return this;
    }

    /**
     * Trains a new run on the data {@code source} puts into Spark (a Spark ML Estimator's frame); with
     * {@code record}, its epochs, checkpoints, model and plot go to the metrics directory exactly as {@link #run}'s
     * do, else nothing is written. Returns the trained network.
     */
    public MultiLayerNetwork run(TrainConfig parsed, TrainingData.Source source, boolean record) {
        Nd4jBackends.requireUsable();
        // not the application id even under YARN: an application may fit many times, and only `train` continues
        // its own run on a new application attempt
        TrainConfig settings = parsed.resolve(Deployment.of(spark.sparkContext()), RunStart.timestampRunId());
        if (!record) {
            return train(RunStart.fresh(settings), null, source);
        }
        RunFiles files = RunFiles.open(spark, settings.metrics());
        try (RunClaim claim = claim(settings.metrics(), settings.runId())) {
            files.requireNewRun(settings.runId());
            return train(RunStart.fresh(settings), files, source);
        }
    }

    /** Trains and records the new run {@code parsed} describes; returns the trained network. */
    public MultiLayerNetwork run(TrainConfig parsed) {
        Nd4jBackends.requireUsable();
        SparkContext sc = spark.sparkContext();
        TrainConfig settings = parsed.resolve(Deployment.of(sc), RunStart.generatedRunId(sc));
        try (RunClaim claim = claim(settings.metrics(), settings.runId())) {
            return newRunOrNextAttempt(sc, settings);
        }
    }

    private MultiLayerNetwork newRunOrNextAttempt(SparkContext sc, TrainConfig settings) {
        RunFiles files = RunFiles.open(spark, settings.metrics());
        if (RunStart.reattemptContinues(sc, files, settings.runId())) { // never start a second run
            output.out().printf("attempt %s of application %s: continuing run %s%n",
                    sc.applicationAttemptId().get(), sc.applicationId(), settings.runId());
            return continueRun(files, settings.runId(), Map.of(TrainConfig.METRICS.name(), settings.metrics()));
        }
        files.requireNewRun(settings.runId());
        IdxFiles idx = new IdxFiles(spark, null, readAhead);
        readAhead = null; // taken or not, once
        return train(RunStart.fresh(settings), files, idx);
    }

    /**
     * Continues run {@code runId} from its last checkpoint, with the flags {@code given} (the run's recorded
     * settings otherwise; see {@link TrainConfig#resumed}); returns the trained network.
     */
    public MultiLayerNetwork resume(String runId, Map<String, String> given) {
        requireRunToResume(runId);
        Nd4jBackends.requireUsable();
        String metrics = given.getOrDefault(TrainConfig.METRICS.name(),
                TrainConfig.defaults().get(TrainConfig.METRICS.name()));
        try (RunClaim claim = claim(metrics, runId)) {
            return continueRun(RunFiles.open(spark, metrics), runId, given);
        }
    }

    /** Run {@code runId}, claimed for this driver before anything of it is written (see {@link RunClaim}). */
    private RunClaim claim(String metrics, String runId) {
        held = RunClaim.forDriver(spark.sparkContext(), metrics, runId, output.out());
        return held;
    }

    /** {@code --resume}'s value names a run: refused if empty (a new run's empty --run-id means "generate one"). */
    public static void requireRunToResume(String runId) {
        if (runId.isEmpty()) {
            throw new UsageException("--resume needs the id of the run to continue (--resume RUN_ID); it is empty");
        }
    }

    private MultiLayerNetwork continueRun(RunFiles files, String runId, Map<String, String> given) {
        PrintStream out = output.out();
        RunStart start = RunStart.resume(spark.sparkContext(), files, runId, given);
        files.table().requireWritable(); // a read-only location fails now, not after an epoch
        if (start.settings().trainingMaster() == TrainingMasterKind.STOCK) {
            out.printf("note: run %s uses DL4J's stock master, whose data splits and dropout masks are not drawn from"
                    + " the seed: it continues, but not exactly as an uninterrupted run would%n", runId);
        }
        int done = start.completedEpochs();
        if (start.settings().epochs() <= done) {
            files.settleFinished(runId, done, start.network(), out);
            return start.network();
        }
        out.printf("resuming run %s after epoch %d (%s)%n", runId, done, files.store().checkpointPath(runId, done));
        return train(start, files, new IdxFiles(spark, start.checkpoint(), null));
    }

    /** {@code files} null: nothing recorded (an Estimator's fit without a metrics path). */
    private MultiLayerNetwork train(RunStart start, RunFiles files, TrainingData.Source source) {
        JitChoice.ourCodeOnC1(); // the driver's own loops (loading a frame, the endpoint; in local mode the steps)
        SparkContext sc = spark.sparkContext();
        long runStart = System.nanoTime();
        ExecutorLosses losses = ExecutorLosses.listenOn(sc); // from now on: the executors' hosts as they register
        TrainingData data = null;
        if (files != null) {
            MetricsTable.warmUpWriter(spark); // while the data load leaves a core idle
        }
        TrainConfig settings = start.settings();
        try (Interruption interruption = files == null ? Interruption.unwatched(settings.runId())
                : Interruption.watch(settings.runId(), start.completedEpochs(),
                () -> EpochLoop.keptAndNext(settings, files), output)) {
            data = source.load(settings);
            return new EpochLoop(spark, output, start, data, files, files == null ? null : held, losses,
                    interruption).run(runStart);
        } finally {
            if (data != null) {
                data.release().run();
            }
            losses.stop(sc);
        }
    }
}
