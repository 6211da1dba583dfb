package io.github.sparkdropout.job;

import io.github.sparkdropout.config.UsageException;
import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.data.DataException;
import io.github.sparkdropout.data.FrameShards;
import io.github.sparkdropout.eval.EvalResult;
import io.github.sparkdropout.eval.TestEvaluation;
import io.github.sparkdropout.metrics.CurvePlot;
import io.github.sparkdropout.metrics.EpochAppender;
import io.github.sparkdropout.metrics.EpochRecord;
import io.github.sparkdropout.metrics.MetricsSchema;
import io.github.sparkdropout.metrics.MetricsTable;
import io.github.sparkdropout.metrics.RunInfo;
import io.github.sparkdropout.model.DropoutMlp;
import io.github.sparkdropout.model.ParamVectors;
import io.github.sparkdropout.replica.NativeThreads;
import io.github.sparkdropout.spark.Deployment;
import io.github.sparkdropout.train.DistributedTraining;
import io.github.sparkdropout.train.ExecutorLosses;
import io.github.sparkdropout.train.JobDescription;
import io.github.sparkdropout.train.TrainingMasterKind;
import io.github.sparkdropout.train.stats.TrainStats;
import io.github.sparkdropout.train.transport.EpochEnd;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * A run's epochs on its data in Spark: train each (DL4J Spark parameter averaging), evaluate it on the test shards,
 * print it and record it; then the final model, the summary and the run's curves.
 *
 * <p>Recording follows one rule, kept in {@link #record}: an epoch's rows are appended to the metrics table first,
 * its checkpoint is published after them (on the appender's thread, one epoch in flight). A driver lost in between
 * leaves rows without their checkpoint; a run continued from its last checkpoint replaces those rows before it
 * trains ({@link #run}), so every row in the table belongs to a checkpoint or is about to. A run whose JVM is
 * stopped (Ctrl-C, SIGTERM) finishes the epoch being recorded and records none after it ({@link Interruption}).
 */
final class EpochLoop {
    private final SparkSession spark;
    private final RunOutput output;
    private final RunStart start;
    private final TrainingData data;
    private final RunFiles files; // null: nothing recorded (an Estimator's fit without a metrics path)
    private final RunClaim claim; // this driver's claim on the run: still held before each write (null: no files)
    private final ExecutorLosses losses;
    private final Interruption interruption;
    private final List<EpochRecord> records = new ArrayList<>();

    EpochLoop(SparkSession spark, RunOutput output, RunStart start, TrainingData data, RunFiles files,
              RunClaim claim, ExecutorLosses losses, Interruption interruption) {
        this.spark = spark;
        this.output = output;
        this.start = start;
        this.data = data;
        this.files = files;
        this.claim = claim;
        this.losses = losses;
        this.interruption = interruption;
    }

    /** Trains the epochs after the start's, records them; {@code runStart}: when the command started (nanos). */
    MultiLayerNetwork run(long runStart) {
        PrintStream out = output.out();
        SparkContext sc = spark.sparkContext();
        // once the data is loaded, the executors holding it have registered: barrier averaging needs their slots
        Deployment deployment = Deployment.of(sc);
        TrainConfig cfg = start.settings().withSyncFor(deployment);
        interruption.training(cfg.epochs());
        if (start.continued()) { // only now, with the data checked and the settings resolved: bad input changed nothing
            int superseded = files.table().supersede(cfg.runId(), start.completedEpochs() + 1);
            if (superseded > 0) {
                out.printf("the rows of %d epoch(s) after epoch %d, published before their checkpoint, are"
                        + " replaced%n", superseded, start.completedEpochs());
            }
        }
        Timestamp runStarted = start.continued() ? start.checkpoint().runStartedAt()
                : new Timestamp(System.currentTimeMillis());
        RunInfo run = new RunInfo(cfg.runId(), runStarted, cfg, sc.master(), deployment.executors(),
                sc.applicationId(), spark.version(), projectVersion(), sc.getConf().get("spark.sparkdropout.gitCommit",
                "unknown"), data.train(), data.test(), files != null ? files.store().modelPath(cfg.runId()).toString()
                : null);
        out.printf("run %s: %s%n", cfg.runId(), cfg);
        out.printf("data %s: %d train / %d test examples%s, loaded into %d partitions in %.1f s%n", cfg.data(),
                data.train().count(), data.test().count(), data.note(), cfg.workers(), data.loadSeconds());
        out.printf("spark %s master %s (%s): %d worker(s) x %d examples per step%s; %s%n", spark.version(),
                sc.master(), sc.applicationId(), cfg.workers(), cfg.perWorkerBatchSize(),
                cfg.threadsPerWorker().isPresent() ? ", " + cfg.threadsPerWorker().getAsInt() + " native thread(s) each"
                        : "",
                ExecutorEnvironment.of(data.trainShards()));

        MultiLayerNetwork net = DropoutMlp.create(cfg.variant(), cfg.lr(), cfg.shape(), cfg.seed());
        if (start.continued()) {
            ParamVectors.set(net, ParamVectors.get(start.network()));
        }
        trainEpochs(cfg, run, net);
        String plot = new org.apache.hadoop.fs.Path(cfg.metrics(), "plots/" + cfg.runId() + ".png").toString();
        if (files != null) {
            interruption.enter("while saving its final model", () -> keptAndNext(cfg, files));
            requireHeld("saving its final model");
            try {
                files.store().publishModel(cfg.runId(), DropoutMlp.portable(net));
            } catch (RuntimeException e) {
                throw failure(cfg, "saving the final model", e);
            }
            interruption.enter("while drawing its plot", () -> "; its epochs and model are saved, draw the plot with "
                    + drawAgain(cfg, plot));
        }
        EpochRecord last = records.get(records.size() - 1);
        double trainTotal = records.stream().mapToDouble(EpochRecord::trainSeconds).sum();
        out.printf("done: run %s, %d epochs, final test acc %.4f, %.2f s training (%.2f s/epoch), %.1f s in all%n",
                cfg.runId(), last.epoch(), last.testAcc(), trainTotal, trainTotal / records.size(),
                (System.nanoTime() - runStart) / 1e9);
        if (files != null) {
            out.printf("model: %s%n", files.store().modelPath(cfg.runId()));
            drawCurves(cfg, plot);
            out.printf("metrics: %s (query: ./submit.sh sql \"SELECT epoch, train_loss, train_acc, test_acc FROM"
                    + " metrics WHERE run_id = '%s' ORDER BY epoch\")%n",
                    files.table().tablePath(MetricsTable.EPOCHS), cfg.runId());
        }
        return net;
    }

    private void trainEpochs(TrainConfig cfg, RunInfo run, MultiLayerNetwork net) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<String> networkJson = jsc.broadcast(net.getLayerWiseConfigurations().toJson());
        TestEvaluation evaluation = new TestEvaluation(jsc, networkJson, "eval-" + cfg.runId() + "-"
                + System.identityHashCode(net), cfg.threadsPerWorker().orElse(NativeThreads.UNCAPPED));
        int epoch = start.completedEpochs() + 1;
        String doing = "epoch " + epoch;
        // every write of an epoch first checks that this driver still holds the run (another may have taken it over)
        try (EpochAppender appender = files != null ? new EpochAppender(files.table(),
                e -> requireHeld("the next write of epoch " + e)) : null;
             DistributedTraining training = new DistributedTraining(jsc, net, networkJson, cfg.trainingSettings(),
                     output, losses)) {
            interruption.publishing(appender);
            for (; epoch <= cfg.epochs(); epoch++) {
                doing = "epoch " + epoch;
                output.epochStarts(epoch, cfg.epochs());
                Timestamp started = new Timestamp(System.currentTimeMillis());
                long e0 = System.nanoTime();
                // the test shards are scored by the training stage's own tasks where it can (EpochEndTask),
                // else by an evaluation job: the same arithmetic, the same numbers
                TrainStats stats;
                long e1;
                EpochEnd inStage;
                EvalResult eval;
                try (JobDescription described = JobDescription.add(spark.sparkContext(), "sparkdropout run "
                        + cfg.runId() + ": epoch " + epoch + " of " + cfg.epochs() + ", " + averaging(cfg))) {
                    stats = training.fitEpoch(epoch, data.trainShards(), data.testShards(),
                            TestEvaluation.inTraining(cfg.shape().classes()));
                    e1 = System.nanoTime();
                    inStage = training.epochEnd();
                    eval = inStage != null ? TestEvaluation.merge(inStage.results(), cfg.shape().classes())
                            : data.testShards() == null ? null
                            : evaluation.evaluate(training.network(), data.testShards(), cfg.shape().classes());
                }
                long e2 = System.nanoTime();
                double inStageSeconds = inStage != null ? inStage.seconds() : 0;
                EpochRecord epochRecord = new EpochRecord(epoch, stats.meanLoss(), stats.accuracy(),
                        eval == null ? Double.NaN : eval.accuracy(), (e1 - e0) / 1e9 - inStageSeconds,
                        inStageSeconds + (e2 - e1) / 1e9, stats.examples(), stats.workerSeconds() > 0
                        ? stats.workerSeconds() / cfg.workers() : Double.NaN, started,
                        new Timestamp(System.currentTimeMillis()),
                        files != null ? files.store().checkpointPath(cfg.runId(), epoch).toString() : null);
                interruption.record(epoch, () -> {
                    output.clearProgress();
                    if (appender != null) {
                        record(appender, run, epochRecord, eval, net);
                    }
                    records.add(epochRecord);
                    output.epochDone(epochRecord);
                    output.out().printf("epoch %d: loss %.4f, train acc %.3f, test acc %.3f (train %.2f s%s, %.0f"
                                    + " ex/s, eval %.2f s)%n", epochRecord.epoch(), epochRecord.trainLoss(),
                            epochRecord.trainAcc(), epochRecord.testAcc(), epochRecord.trainSeconds(),
                            Double.isNaN(epochRecord.workerBusySeconds()) ? "" : String.format(
                                    " of which workers busy %.2f s", epochRecord.workerBusySeconds()),
                            epochRecord.examplesPerSecond(), epochRecord.evalSeconds());
                });
            }
            doing = "saving the results of epoch " + cfg.epochs(); // the appender's close: the last rows, checkpoint
        } catch (UsageException | DataException | JobFailure e) { // JobFailure: already one line (a takeover)
            throw e;
        } catch (Exception e) { // Spark's own exceptions are checked, undeclared
            output.clearProgress();
            throw failure(cfg, doing, e);
        } finally {
            if (!interruption.stopping() && !spark.sparkContext().isStopped()) { // else Spark's shutdown frees them
                evaluation.release();
                networkJson.destroy();
            }
        }
    }

    private static String averaging(TrainConfig cfg) {
        return cfg.trainingMaster() == TrainingMasterKind.STOCK ? "DL4J's stock master"
                : cfg.averagingSync().name().toLowerCase(java.util.Locale.ROOT) + " averaging";
    }

    /** The epoch's rows into the table, then its checkpoint: the order the class comment explains. */
    private void record(EpochAppender appender, RunInfo run, EpochRecord epoch, EvalResult eval,
                        MultiLayerNetwork net) {
        MultiLayerNetwork snapshot = DropoutMlp.portable(net); // this epoch's parameters, copied now
        CheckpointState state = CheckpointState.of(run, epoch.epoch());
        appender.append(MetricsSchema.epochRow(run, epoch), eval == null ? List.of()
                        : MetricsSchema.classRows(run.runId(), epoch.epoch(), eval, data.classNames()), run.runId(), epoch.epoch(),
                () -> files.store().publishCheckpoint(run.runId(), epoch.epoch(), snapshot, state.toProperties()));
    }

    private void requireHeld(String what) {
        if (claim != null) {
            claim.requireHeld(what);
        }
    }

    private void drawCurves(TrainConfig cfg, String plot) {
        try {
            if (!start.continued()) { // this process trained every epoch: draw from them
                CurvePlot.write(cfg.runId(), cfg, records, plot, spark.sparkContext().hadoopConfiguration());
            } else { // a continued run: its earlier epochs are in the table
                CurvePlot.write(spark, files.table(), List.of(cfg.runId()), plot);
            }
            output.out().printf("plot: %s%n", plot);
        } catch (RuntimeException | LinkageError | java.awt.AWTError e) {
            // the run and its model are saved: a missing figure (a full disk, no fonts) is no failure
            Throwable why = e;
            while (why.getCause() != null && why.getCause() != why) {
                why = why.getCause();
            }
            LoggerFactory.getLogger(EpochLoop.class).warn("the plot {} was not drawn ({}); the run is saved, draw it"
                    + " with {}", plot, why.getMessage() != null ? why.getMessage() : why.getClass().getSimpleName(),
                    drawAgain(cfg, plot), e);
        }
    }

    /** The command that draws the run's plot from its rows. */
    private static String drawAgain(TrainConfig cfg, String plot) {
        return "./submit.sh plot --run-id " + cfg.runId() + " --out " + plot + metricsOption(cfg);
    }

    /** {@code --metrics DIR} when the run's is not the default one, else nothing. */
    private static String metricsOption(TrainConfig cfg) {
        return cfg.metrics().equals(TrainConfig.defaults().get(TrainConfig.METRICS.name())) ? ""
                : " --metrics " + cfg.metrics();
    }

    /** What failed, where, and what the user can do: the one line a failed run ends with. */
    private JobFailure failure(TrainConfig cfg, String doing, Exception e) {
        return new JobFailure(doing + " of run " + cfg.runId() + " failed: " + JobFailure.rootMessage(e)
                + keptAndNext(cfg, files), e);
    }

    /**
     * What of run {@code cfg} is kept and how to continue it, as the end of a line ({@code "; epochs 1-3 are
     * recorded and saved, continue with ..."}); empty when nothing can be said ({@code files} null or unreadable).
     */
    static String keptAndNext(TrainConfig cfg, RunFiles files) {
        int kept;
        try {
            kept = files == null ? -1 : files.store().lastCheckpoint(cfg.runId()).orElse(0);
        } catch (RuntimeException unreadable) {
            kept = -1;
        }
        String saved = (kept == 1 ? "; epoch 1 is" : "; epochs 1-" + kept + " are") + " recorded and saved";
        return kept < 0 ? "" : kept == 0 ? "; nothing was saved yet: train it again under another --run-id"
                : FrameShards.DATA_SOURCE.equals(cfg.data()) // an Estimator's fit: its frame is not on disk
                ? saved + " (a fit on a DataFrame cannot be resumed: fit again under another run id)"
                : saved + ", continue with ./submit.sh train --resume " + cfg.runId() + metricsOption(cfg);
    }

    static String projectVersion() {
        Properties p = new Properties();
        try (InputStream in = EpochLoop.class.getResourceAsStream("/build.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException ignored) {
            // fall through to "unknown"
        }
        return p.getProperty("version", "unknown");
    }
}
