package io.github.sparkdropout.job;

import io.github.sparkdropout.checkpoint.RunStore;
import io.github.sparkdropout.model.Nd4jBackends;
import io.github.sparkdropout.config.ConfigException;
import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.data.DataException;
import io.github.sparkdropout.data.DataProvenance;
import io.github.sparkdropout.data.FashionMnist;
import io.github.sparkdropout.data.FrameShards;
import io.github.sparkdropout.data.MnistFrames;
import io.github.sparkdropout.data.ReadAhead;
import io.github.sparkdropout.data.Shards;
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
import io.github.sparkdropout.spark.SparkInternals;
import io.github.sparkdropout.train.DistributedTraining;
import io.github.sparkdropout.train.ExecutorLosses;
import io.github.sparkdropout.train.TrainingMasterKind;
import io.github.sparkdropout.train.stats.RoundListener;
import io.github.sparkdropout.train.stats.TrainStats;
import io.github.sparkdropout.train.transport.EpochEnd;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.sql.Timestamp;
import java.text.SimpleDateFormat;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The training job, shaped like the book's {@code train_ch3}: resolve the settings against the Spark deployment,
 * load and validate the data, then for every epoch train (DL4J Spark parameter averaging), evaluate on the test
 * shards, append the epoch to the metrics table and then publish its checkpoint; finally publish the model and draw
 * the run's curves. A run continues from its last checkpoint ({@link #resume}), exactly: the workers' randomness
 * is derived from (seed, partition, epoch, round), so the resumed epochs are the ones an uninterrupted run trains.
 */
public final class TrainJob {
    /** What the job tells its user: the run's lines, and progress within an epoch. */
    public interface Output extends RoundListener {
        PrintStream out();

        /** A new epoch starts (progress restarts). */
        default void epochStarts(int epoch, int epochs) {
        }

        /** Before a normal line is printed (a progress line in place must go). */
        default void clearProgress() {
        }

        /** Progress within an epoch: by default not shown (a log gets a line per epoch). */
        @Override
        default void roundDone(int round, int rounds, long examplesDone, long examplesTotal) {
        }

        /** An epoch is trained, evaluated and queued for the table. */
        default void epochDone(EpochRecord record) {
        }
    }

    private static final Pattern LOCAL_MASTER = Pattern.compile("local(?:\\[(\\*|\\d+)(?:,\\d+)?])?");

    private final SparkSession spark;
    private final Output output;
    private ReadAhead readAhead; // a new run's files, being read while Spark started (null: none)

    public TrainJob(SparkSession spark, Output output) {
        this.spark = spark;
        this.output = output;
    }

    /** A new run ({@link #run(TrainConfig)}) takes its files from {@code ahead} if they are the ones it needs. */
    public TrainJob readingAhead(ReadAhead ahead) {
        this.readAhead = ahead;
        return this;
    }

    /** What a run starts from: nothing, or the checkpoint of a run it continues. */
    private record Start(int completedEpochs, RunStore.Saved checkpoint) {
        static final Start FRESH = new Start(0, null);
    }

    /**
     * The data a run trains and evaluates on, in Spark: one cached shard per worker, and the evaluation shards
     * (null: none, each epoch's test accuracy is then NaN); what they hold; a note for the run's data line; and
     * what frees the executors' memory they hold once the run is over.
     */
    public record Data(JavaRDD<DataSet> trainShards, JavaRDD<DataSet> testShards, DataProvenance train,
                       DataProvenance test, String note, double loadSeconds, Runnable release) {
    }

    /** Puts a run's data into Spark, given its resolved settings (the worker count makes the shards). */
    public interface DataSource {
        Data load(TrainConfig resolved);
    }

    /**
     * Trains a new run on the data {@code source} puts into Spark (a Spark ML Estimator's frame); with
     * {@code record}, its epochs, checkpoints, model and plot go to the metrics directory exactly as {@link #run}'s
     * do, else nothing is written. Returns the trained network.
     */
    public MultiLayerNetwork run(TrainConfig parsed, DataSource source, boolean record) {
        Nd4jBackends.requireUsable();
        SparkContext sc = spark.sparkContext();
        // not the application id even under YARN: an application may fit many times, and only `train` continues
        // its own run on a new application attempt
        TrainConfig base = resolve(sc, parsed, timestampRunId());
        if (!record) {
            return train(base, null, null, Start.FRESH, source);
        }
        MetricsTable table = new MetricsTable(spark, base.metrics());
        RunStore store = new RunStore(sc.hadoopConfiguration(), base.metrics());
        requireNewRun(table, store, base.runId());
        return train(base, table, store, Start.FRESH, source);
    }

    /** Trains and records the new run {@code parsed} describes; returns the trained network. */
    public MultiLayerNetwork run(TrainConfig parsed) {
        Nd4jBackends.requireUsable();
        SparkContext sc = spark.sparkContext();
        TrainConfig base = resolve(sc, parsed, generatedRunId(sc));
        MetricsTable table = new MetricsTable(spark, base.metrics());
        RunStore store = new RunStore(sc.hadoopConfiguration(), base.metrics());
        String attempt = sc.applicationAttemptId().getOrElse(() -> "1");
        if (!attempt.equals("1")) { // YARN ran the driver again for the same submission: never start a second run
            OptionalInt saved = store.lastCheckpoint(base.runId());
            if (saved.isPresent() && sc.applicationId().equals(store.checkpoint(base.runId(), saved.getAsInt())
                    .state().get(Checkpoints.APP_ID))) {
                output.out().printf("attempt %s of application %s: continuing run %s%n", attempt,
                        sc.applicationId(), base.runId());
                return continueRun(table, store, base.runId(), Map.of(TrainConfig.METRICS.name(), base.metrics()));
            }
            if (saved.isEmpty() && table.onlyWrittenBy(base.runId(), sc.applicationId())) {
                table.supersede(base.runId(), 1); // rows of this application's first attempt, never checkpointed
            }
        }
        requireNewRun(table, store, base.runId());
        return train(base, table, store, Start.FRESH, files(Start.FRESH));
    }

    private static void requireNewRun(MetricsTable table, RunStore store, String runId) {
        table.requireNewRun(runId);
        if (store.lastCheckpoint(runId).isPresent()) {
            throw new ConfigException("run id '" + runId + "' already has saved checkpoints in "
                    + store.checkpointPath(runId, 1).getParent() + "; choose another --run-id (or omit it to"
                    + " generate one)");
        }
    }

    /**
     * Continues run {@code runId} from its last checkpoint, with the flags {@code given} (the run's recorded
     * settings otherwise; see {@link TrainConfig#resumed}); returns the trained network.
     */
    public MultiLayerNetwork resume(String runId, Map<String, String> given) {
        Nd4jBackends.requireUsable();
        String metrics = given.getOrDefault(TrainConfig.METRICS.name(),
                TrainConfig.defaults().get(TrainConfig.METRICS.name()));
        MetricsTable table = new MetricsTable(spark, metrics);
        RunStore store = new RunStore(spark.sparkContext().hadoopConfiguration(), metrics);
        return continueRun(table, store, runId, given);
    }

    private MultiLayerNetwork continueRun(MetricsTable table, RunStore store, String runId,
                                          Map<String, String> given) {
        PrintStream out = output.out();
        OptionalInt last = store.lastCheckpoint(runId);
        if (last.isEmpty()) {
            throw new ConfigException("run '" + runId + "' has no checkpoint in " + store.checkpointPath(runId, 1)
                    .getParent() + ": nothing to resume (check --metrics; a run that stopped before its first"
                    + " checkpoint is trained again under another --run-id)");
        }
        RunStore.Saved checkpoint = store.checkpoint(runId, last.getAsInt());
        TrainConfig cfg = resolve(spark.sparkContext(), TrainConfig.resumed(Checkpoints.settings(checkpoint), given),
                runId);
        if (cfg.trainingMaster() == TrainingMasterKind.STOCK) {
            out.printf("note: run %s uses DL4J's stock master, whose data splits and dropout masks are not drawn from"
                    + " the seed: it continues, but not exactly as an uninterrupted run would%n", runId);
        }
        if (cfg.epochs() <= checkpoint.epoch()) {
            table.supersede(runId, checkpoint.epoch() + 1);
            if (!store.exists(store.modelPath(runId))) {
                store.publishModel(runId, checkpoint.network());
            }
            out.printf("run %s already has its %d epochs; nothing to train (--epochs N > %d trains it further)%n"
                    + "model: %s%n", runId, checkpoint.epoch(), checkpoint.epoch(), store.modelPath(runId));
            return checkpoint.network();
        }
        out.printf("resuming run %s after epoch %d (%s)%n", runId, checkpoint.epoch(),
                store.checkpointPath(runId, checkpoint.epoch()));
        Start start = new Start(checkpoint.epoch(), checkpoint);
        return train(cfg, table, store, start, files(start));
    }

    /** The Fashion-MNIST IDX files of the run's --data, checked against {@code start}'s checkpoint if any. */
    private DataSource files(Start start) {
        return cfg -> {
            long t0 = System.nanoTime();
            Configuration hadoop = spark.sparkContext().hadoopConfiguration();
            ReadAhead.Splits ahead = start == Start.FRESH && readAhead != null
                    ? readAhead.take(cfg.data(), cfg.trainLimit(), cfg.testLimit(), hadoop) : null;
            readAhead = null; // taken or not, once
            FashionMnist.Split train = ahead != null ? ahead.train()
                    : FashionMnist.train(cfg.data(), cfg.trainLimit(), hadoop);
            FashionMnist.Split test = ahead != null ? ahead.test()
                    : FashionMnist.test(cfg.data(), cfg.testLimit(), hadoop);
            if (start.checkpoint() != null) {
                Checkpoints.requireSameData(start.checkpoint(), cfg.data(), train, test);
            }
            JavaRDD<DataSet> trainShards = Shards.of(MnistFrames.chunks(spark, train, cfg.workers(), cfg.seed()),
                    "train");
            JavaRDD<DataSet> testShards = null;
            try {
                testShards = Shards.of(MnistFrames.chunks(spark, test, Math.min(cfg.workers(), test.count()), null),
                        "test");
                trainShards.count();
                testShards.count();
            } catch (RuntimeException e) { // no Data to release yet: let go of what is cached
                trainShards.unpersist(false);
                if (testShards != null) {
                    testShards.unpersist(false);
                }
                throw e;
            }
            JavaRDD<DataSet> cachedTest = testShards;
            return new Data(trainShards, cachedTest, train, test, train.official() && test.official()
                    ? " (official Fashion-MNIST checksums)" : " (checksums differ from official Fashion-MNIST)",
                    (System.nanoTime() - t0) / 1e9, () -> {
                        trainShards.unpersist(false);
                        cachedTest.unpersist(false);
                    });
        };
    }

    /** {@code table} and {@code store} null: nothing recorded (an Estimator's fit without a metrics path). */
    private MultiLayerNetwork train(TrainConfig base, MetricsTable table, RunStore store, Start start,
                                    DataSource source) {
        SparkContext sc = spark.sparkContext();
        long runStart = System.nanoTime();
        ExecutorLosses losses = ExecutorLosses.listenOn(sc); // from now on: the executors' hosts as they register
        Data data = null;
        if (table != null) {
            MetricsTable.warmUpWriter(spark); // while the data load leaves a core idle
        }
        try {
            data = source.load(base);
            return trainOn(base, table, store, start, data, runStart, losses);
        } finally {
            if (data != null) {
                data.release().run();
            }
            losses.stop(sc);
        }
    }

    private MultiLayerNetwork trainOn(TrainConfig base, MetricsTable table, RunStore store, Start start, Data data,
                                      long runStart, ExecutorLosses losses) {
        JavaRDD<DataSet> trainShards = data.trainShards();
        boolean record = store != null;
        PrintStream out = output.out();
        SparkContext sc = spark.sparkContext();
        // once the data is loaded, the executors holding it have registered: barrier averaging needs their slots
        TrainConfig cfg = base.withSyncFor(SparkInternals.concurrentTaskSlots(sc),
                sc.getConf().getBoolean("spark.dynamicAllocation.enabled", false));
        if (start.checkpoint() != null) { // only now, with the data checked and the settings resolved: bad input
            int superseded = table.supersede(cfg.runId(), start.completedEpochs() + 1); // leaves the rows alone
            if (superseded > 0) {
                out.printf("the rows of %d epoch(s) after epoch %d, published before their checkpoint, are"
                        + " replaced%n", superseded, start.completedEpochs());
            }
        }

        Timestamp runStarted = start.checkpoint() == null ? new Timestamp(System.currentTimeMillis())
                : Checkpoints.runStartedAt(start.checkpoint());
        RunInfo run = new RunInfo(cfg.runId(), runStarted, cfg, sc.master(), executorCount(sc), sc.applicationId(),
                spark.version(), projectVersion(), sc.getConf().get("spark.sparkdropout.gitCommit", "unknown"),
                data.train(), data.test(), record ? store.modelPath(cfg.runId()).toString() : null);
        out.printf("run %s: %s%n", cfg.runId(), cfg);
        out.printf("data %s: %d train / %d test examples%s, loaded into %d partitions in %.1f s%n", cfg.data(),
                data.train().count(), data.test().count(), data.note(), cfg.workers(), data.loadSeconds());
        out.printf("spark %s master %s (%s): %d worker(s) x %d examples per step%s; %s%n", spark.version(),
                sc.master(), sc.applicationId(), cfg.workers(), cfg.perWorkerBatchSize(),
                cfg.threadsPerWorker() > 0 ? ", " + cfg.threadsPerWorker() + " native thread(s) each" : "",
                ExecutorEnvironment.of(trainShards));

        List<EpochRecord> records = new ArrayList<>();
        MultiLayerNetwork net = DropoutMlp.create(cfg.variant(), cfg.lr(), cfg.dropout1(), cfg.dropout2(),
                cfg.seed());
        if (start.checkpoint() != null) {
            ParamVectors.set(net, ParamVectors.get(start.checkpoint().network()));
        }
        Map<String, String> state = Checkpoints.state(run);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(sc);
        Broadcast<String> networkJson = jsc.broadcast(net.getLayerWiseConfigurations().toJson());
        TestEvaluation evaluation = new TestEvaluation(jsc, networkJson, "eval-" + cfg.runId() + "-"
                + System.identityHashCode(net), cfg.threadsPerWorker());
        int epoch = start.completedEpochs() + 1;
        String doing = "epoch " + epoch;
        try (EpochAppender appender = record ? new EpochAppender(table) : null;
             DistributedTraining training = new DistributedTraining(jsc, net, networkJson,
                     cfg.trainingSettings(), output, losses)) {
        for (; epoch <= cfg.epochs(); epoch++) {
                doing = "epoch " + epoch;
                output.epochStarts(epoch, cfg.epochs());
                Timestamp started = new Timestamp(System.currentTimeMillis());
                long e0 = System.nanoTime();
                // the test shards are scored by the training stage's own tasks where it can (EpochEndTask),
                // else by an evaluation job: the same arithmetic, the same numbers
                TrainStats stats = training.fitEpoch(epoch, trainShards, data.testShards(),
                        TestEvaluation.inTraining(FashionMnist.CLASSES));
                long e1 = System.nanoTime();
                EpochEnd inStage = training.epochEnd();
                EvalResult eval = inStage != null ? TestEvaluation.merge(inStage.results(), FashionMnist.CLASSES)
                        : data.testShards() == null ? null
                        : evaluation.evaluate(training.network(), data.testShards(), FashionMnist.CLASSES);
                long e2 = System.nanoTime();
                double evalSeconds = inStage != null ? inStage.seconds() + (e2 - e1) / 1e9 : (e2 - e1) / 1e9;
                double trainSeconds = (e1 - e0) / 1e9 - (inStage != null ? inStage.seconds() : 0);
                EpochRecord epochRecord = new EpochRecord(epoch, stats.meanLoss(), stats.accuracy(),
                        eval == null ? Double.NaN : eval.accuracy(),
                        trainSeconds, evalSeconds, stats.examples(), stats.workerSeconds() > 0
                        ? stats.workerSeconds() / cfg.workers() : Double.NaN, started,
                        new Timestamp(System.currentTimeMillis()),
                        record ? store.checkpointPath(cfg.runId(), epoch).toString() : null);
                output.clearProgress();
                if (record) {
                    MultiLayerNetwork snapshot = DropoutMlp.portable(net); // this epoch's parameters, copied now
                    int done = epoch;
                    appender.append(MetricsSchema.epochRow(run, epochRecord), eval == null ? List.of()
                                    : MetricsSchema.classRows(cfg.runId(), epoch, eval), cfg.runId(), epoch,
                            () -> store.publishCheckpoint(cfg.runId(), done, snapshot, state));
                }
                records.add(epochRecord);
                output.epochDone(epochRecord);
                out.printf("epoch %d: loss %.4f, train acc %.3f, test acc %.3f (train %.2f s%s, %.0f ex/s,"
                                + " eval %.2f s)%n", epoch, epochRecord.trainLoss(), epochRecord.trainAcc(),
                        epochRecord.testAcc(), epochRecord.trainSeconds(),
                        Double.isNaN(epochRecord.workerBusySeconds()) ? "" : String.format(
                                " of which workers busy %.2f s", epochRecord.workerBusySeconds()),
                        epochRecord.examplesPerSecond(), epochRecord.evalSeconds());
            }
            doing = "saving the results of epoch " + cfg.epochs(); // the appender's close: the last rows, checkpoint
        } catch (ConfigException | DataException e) {
            throw e;
        } catch (Exception e) { // Spark's own exceptions are checked, undeclared
            output.clearProgress();
            throw failure(store, cfg, doing, e);
        } finally {
            evaluation.release();
            networkJson.destroy();
        }
        if (record) {
            try {
                store.publishModel(cfg.runId(), DropoutMlp.portable(net));
            } catch (RuntimeException e) {
                throw failure(store, cfg, "saving the final model", e);
            }
        }

        EpochRecord last = records.get(records.size() - 1);
        double trainTotal = records.stream().mapToDouble(EpochRecord::trainSeconds).sum();
        out.printf("done: run %s, %d epochs, final test acc %.4f, %.2f s training (%.2f s/epoch), %.1f s in all%n",
                cfg.runId(), last.epoch(), last.testAcc(), trainTotal, trainTotal / records.size(),
                (System.nanoTime() - runStart) / 1e9);
        if (!record) {
            return net;
        }
        String plot = new org.apache.hadoop.fs.Path(cfg.metrics(), "plots/" + cfg.runId() + ".png").toString();
        out.printf("model: %s%n", store.modelPath(cfg.runId()));
        try {
            if (start.completedEpochs() == 0) { // this process trained every epoch: draw from them
                CurvePlot.write(cfg.runId(), cfg, records, plot, sc.hadoopConfiguration());
            } else { // a resumed run: its earlier epochs are in the table
                CurvePlot.write(spark, table, List.of(cfg.runId()), plot);
            }
            out.printf("plot: %s%n", plot);
        } catch (java.io.UncheckedIOException e) { // the run and its model are saved: a missing figure is no failure
            LoggerFactory.getLogger(TrainJob.class).warn("{} (./submit.sh plot --run-id {} draws it again)",
                    e.getMessage(), cfg.runId());
        }
        out.printf("metrics: %s (query: ./submit.sh sql \"SELECT epoch, train_loss, train_acc, test_acc FROM"
                + " metrics WHERE run_id = '%s' ORDER BY epoch\")%n", table.tablePath(MetricsTable.EPOCHS),
                cfg.runId());
        return net;
    }

    /** What failed, where, and what the user can do: the one line a failed run ends with. */
    private static JobFailure failure(RunStore store, TrainConfig cfg, String doing, Exception e) {
        int kept;
        try {
            kept = store == null ? -1 : store.lastCheckpoint(cfg.runId()).orElse(0);
        } catch (RuntimeException unreadable) {
            kept = -1;
        }
        String saved = (kept == 1 ? "; epoch 1 is" : "; epochs 1-" + kept + " are") + " recorded and saved";
        String next = kept < 0 ? "" : kept == 0 ? "; nothing was saved yet: train it again under another --run-id"
                : FrameShards.DATA_SOURCE.equals(cfg.data()) // an Estimator's fit: its frame is not on disk
                ? saved + " (a fit on a DataFrame cannot be resumed: fit again under another run id)"
                : saved + ", continue with ./submit.sh train --resume " + cfg.runId() + metricsFlag(cfg);
        return new JobFailure(doing + " of run " + cfg.runId() + " failed: " + JobFailure.rootMessage(e) + next, e);
    }

    private static String metricsFlag(TrainConfig cfg) {
        return cfg.metrics().equals(TrainConfig.defaults().get(TrainConfig.METRICS.name())) ? ""
                : " --metrics " + cfg.metrics();
    }

    /**
     * The run id when none is given. Where the cluster manager may run the driver again for the same submission
     * (YARN cluster deploy mode: a new application attempt), it is the application id, which every attempt
     * shares, so a rerun finds its own run instead of starting a second one; else a timestamp and a random suffix.
     */
    static String generatedRunId(SparkContext sc) {
        if (sc.applicationAttemptId().isDefined()) {
            return sc.applicationId();
        }
        return timestampRunId();
    }

    private static String timestampRunId() {
        return new SimpleDateFormat("yyyyMMdd-HHmmss").format(new Date()) + "-"
                + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0x10000));
    }

    /** Makes the config's "auto" settings concrete for this Spark deployment. */
    static TrainConfig resolve(SparkContext sc, TrainConfig parsed, String generatedRunId) {
        int taskCpus = Math.max(1, sc.getConf().getInt("spark.task.cpus", 1));
        int cores;
        int slots;
        Matcher local = LOCAL_MASTER.matcher(sc.master());
        if (local.matches()) { // executors live in this JVM: they share this machine's cores
            cores = Runtime.getRuntime().availableProcessors();
            String n = local.group(1);
            slots = n == null ? 1 : n.equals("*") ? cores : Integer.parseInt(n);
        } else {
            cores = sc.getConf().getInt("spark.executor.cores", taskCpus);
            slots = Math.max(1, cores / taskCpus);
        }
        return parsed.resolve(sc.defaultParallelism(), cores, slots, generatedRunId);
    }

    private static int executorCount(SparkContext sc) {
        int n = sc.statusTracker().getExecutorInfos().length;
        return Math.max(1, n - 1); // the list includes the driver; in local mode the driver is the executor
    }

    static String projectVersion() {
        Properties p = new Properties();
        try (InputStream in = TrainJob.class.getResourceAsStream("/build.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException ignored) {
            // fall through to "unknown"
        }
        return p.getProperty("version", "unknown");
    }
}
