package io.github.sparkdropout.job;

import io.github.sparkdropout.config.ConfigException;
import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.data.FashionMnist;
import io.github.sparkdropout.data.MnistFrames;
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
import io.github.sparkdropout.spark.SparkInternals;
import io.github.sparkdropout.train.DistributedTraining;
import io.github.sparkdropout.train.stats.RoundListener;
import io.github.sparkdropout.train.stats.TrainStats;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.sql.Timestamp;
import java.text.SimpleDateFormat;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The training job, shaped like the book's {@code train_ch3}: resolve the settings against the Spark deployment,
 * load and validate the data, then for every epoch train (DL4J Spark parameter averaging), evaluate on the test
 * shards and append the epoch to the metrics table at once; finally draw the run's curves.
 */
public final class TrainJob {
    /** What the job tells its user: the run's lines, and progress within an epoch. */
    public interface Output extends RoundListener {
        PrintStream out();

        /** A new epoch starts (progress restarts). */
        void epochStarts(int epoch, int epochs);

        /** Before a normal line is printed (a progress line in place must go). */
        void clearProgress();

        /** An epoch is trained, evaluated and queued for the table. */
        default void epochDone(EpochRecord record) {
        }
    }

    private static final Pattern LOCAL_MASTER = Pattern.compile("local(?:\\[(\\*|\\d+)(?:,\\d+)?])?");

    private final SparkSession spark;
    private final Output output;

    public TrainJob(SparkSession spark, Output output) {
        this.spark = spark;
        this.output = output;
    }

    /** Trains and records the run {@code parsed} describes; returns the trained network. */
    public MultiLayerNetwork run(TrainConfig parsed) {
        PrintStream out = output.out();
        SparkContext sc = spark.sparkContext();
        long runStart = System.nanoTime();
        TrainConfig base = resolve(sc, parsed, generatedRunId(sc));
        MetricsTable table = new MetricsTable(spark, base.metrics());
        requireNewRun(sc, table, base.runId());

        Configuration hadoop = sc.hadoopConfiguration();
        long t0 = System.nanoTime();
        FashionMnist.Split train = FashionMnist.train(base.data(), base.trainLimit(), hadoop);
        FashionMnist.Split test = FashionMnist.test(base.data(), base.testLimit(), hadoop);
        JavaRDD<DataSet> trainShards = Shards.of(MnistFrames.chunks(spark, train, base.workers(), base.seed()),
                "train");
        JavaRDD<DataSet> testShards = Shards.of(MnistFrames.chunks(spark, test,
                Math.min(base.workers(), test.count()), null), "test");
        trainShards.count();
        testShards.count();
        double loadSeconds = (System.nanoTime() - t0) / 1e9;
        // once the data is loaded, the executors holding it have registered: barrier averaging needs their slots
        TrainConfig cfg = base.withSyncFor(SparkInternals.concurrentTaskSlots(sc),
                sc.getConf().getBoolean("spark.dynamicAllocation.enabled", false));

        RunInfo run = new RunInfo(cfg.runId(), new Timestamp(System.currentTimeMillis()), cfg, sc.master(),
                executorCount(sc), sc.applicationId(), spark.version(), projectVersion(),
                sc.getConf().get("spark.sparkdropout.gitCommit", "unknown"), train, test);
        out.printf("run %s: %s%n", cfg.runId(), cfg);
        out.printf("data %s: %d train / %d test examples%s, loaded into %d partitions in %.1f s%n", cfg.data(),
                train.count(), test.count(), train.official() && test.official()
                        ? " (official Fashion-MNIST checksums)" : " (checksums differ from official Fashion-MNIST)",
                cfg.workers(), loadSeconds);
        out.printf("spark %s master %s (%s): %d worker(s) x %d examples per step%s; %s%n", spark.version(),
                sc.master(), sc.applicationId(), cfg.workers(), cfg.perWorkerBatchSize(),
                cfg.threadsPerWorker() > 0 ? ", " + cfg.threadsPerWorker() + " native thread(s) each" : "",
                ExecutorEnvironment.of(trainShards));

        List<EpochRecord> records = new ArrayList<>();
        MultiLayerNetwork net = DropoutMlp.create(cfg.variant(), cfg.lr(), cfg.dropout1(), cfg.dropout2(),
                cfg.seed());
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(sc);
        Broadcast<String> networkJson = jsc.broadcast(net.getLayerWiseConfigurations().toJson());
        TestEvaluation evaluation = new TestEvaluation(jsc, networkJson, "eval-" + cfg.runId() + "-"
                + System.identityHashCode(net), cfg.threadsPerWorker());
        try (EpochAppender appender = new EpochAppender(table);
             DistributedTraining training = new DistributedTraining(jsc, net, networkJson,
                     cfg.trainingSettings(), output)) {
            for (int epoch = 1; epoch <= cfg.epochs(); epoch++) {
                output.epochStarts(epoch, cfg.epochs());
                Timestamp started = new Timestamp(System.currentTimeMillis());
                long e0 = System.nanoTime();
                TrainStats stats = training.fitEpoch(epoch, trainShards);
                long e1 = System.nanoTime();
                EvalResult eval = evaluation.evaluate(training.network(), testShards, FashionMnist.CLASSES);
                long e2 = System.nanoTime();
                EpochRecord record = new EpochRecord(epoch, stats.meanLoss(), stats.accuracy(), eval.accuracy(),
                        (e1 - e0) / 1e9, (e2 - e1) / 1e9, stats.examples(), stats.workerSeconds() > 0
                        ? stats.workerSeconds() / cfg.workers() : Double.NaN, started,
                        new Timestamp(System.currentTimeMillis()));
                output.clearProgress();
                appender.append(MetricsSchema.epochRow(run, record),
                        MetricsSchema.classRows(cfg.runId(), epoch, eval), cfg.runId(), epoch);
                records.add(record);
                output.epochDone(record);
                out.printf("epoch %d: loss %.4f, train acc %.3f, test acc %.3f (train %.2f s%s, %.0f ex/s,"
                                + " eval %.2f s)%n", epoch, record.trainLoss(), record.trainAcc(),
                        record.testAcc(), record.trainSeconds(), Double.isNaN(record.workerBusySeconds()) ? ""
                                : String.format(" of which workers busy %.2f s", record.workerBusySeconds()),
                        record.examplesPerSecond(), record.evalSeconds());
            }
        } finally {
            evaluation.release();
            trainShards.unpersist(false);
            testShards.unpersist(false);
            networkJson.destroy();
        }

        EpochRecord last = records.get(records.size() - 1);
        double trainTotal = records.stream().mapToDouble(EpochRecord::trainSeconds).sum();
        out.printf("done: run %s, %d epochs, final test acc %.4f, %.2f s training (%.2f s/epoch), %.1f s in all%n",
                cfg.runId(), records.size(), last.testAcc(), trainTotal, trainTotal / records.size(),
                (System.nanoTime() - runStart) / 1e9);
        String plot = new org.apache.hadoop.fs.Path(cfg.metrics(), "plots/" + cfg.runId() + ".png").toString();
        CurvePlot.write(spark, table, List.of(cfg.runId()), plot);
        out.printf("plot: %s%n", plot);
        out.printf("metrics: %s (query: ./submit.sh sql \"SELECT epoch, train_loss, train_acc, test_acc FROM"
                + " metrics WHERE run_id = '%s' ORDER BY epoch\")%n", table.tablePath(MetricsTable.EPOCHS),
                cfg.runId());
        return net;
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
        return new SimpleDateFormat("yyyyMMdd-HHmmss").format(new Date()) + "-"
                + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0x10000));
    }

    /**
     * A run id must be new. A later attempt of the same application that finds the epochs of its first attempt
     * refuses to train them again: one submission never leaves two runs, nor a run whose epochs come from two
     * different trainings.
     */
    static void requireNewRun(SparkContext sc, MetricsTable table, String runId) {
        String attempt = sc.applicationAttemptId().getOrElse(() -> "1");
        int recorded = table.recordedEpochs(runId);
        if (recorded > 0 && !attempt.equals("1")) {
            throw new ConfigException("attempt " + attempt + " of application " + sc.applicationId() + ": run '"
                    + runId + "' already has " + recorded + " epoch(s) from an earlier attempt; not training it a"
                    + " second time");
        }
        table.requireNewRun(runId);
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
