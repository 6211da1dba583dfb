package io.github.sparkdropout.cli;

import io.github.sparkdropout.config.ConfigException;
import io.github.sparkdropout.config.Param;
import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.data.FashionMnist;
import io.github.sparkdropout.data.MnistFrames;
import io.github.sparkdropout.data.Shards;
import io.github.sparkdropout.metrics.CurvePlot;
import io.github.sparkdropout.metrics.EpochAppender;
import io.github.sparkdropout.metrics.EpochRecord;
import io.github.sparkdropout.metrics.MetricsSchema;
import io.github.sparkdropout.metrics.MetricsTable;
import io.github.sparkdropout.metrics.RunInfo;
import io.github.sparkdropout.train.Trainer;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.dataset.DataSet;

import java.io.IOException;
import java.io.InputStream;
import java.sql.Timestamp;
import java.text.SimpleDateFormat;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/** {@code train}: load and validate the data, train with parameter averaging, append every epoch to Parquet. */
final class TrainCommand {
    private TrainCommand() {
    }

    static int run(String[] argv) {
        Args args = Args.parse(argv, Set.of("help"), Set.of());
        if (args.flag("help")) {
            System.out.print(help());
            return 0;
        }
        if (!args.positional.isEmpty()) {
            throw new ConfigException("train takes no positional argument: '" + args.positional.get(0) + "'");
        }
        TrainConfig parsed = TrainConfig.of(args.options); // bad flags fail here, before Spark starts
        SparkSession spark = SparkSessions.get("dropout-mlp train");
        try {
            return train(spark, parsed);
        } finally {
            spark.stop();
        }
    }

    static int train(SparkSession spark, TrainConfig parsed) {
        long runStart = System.nanoTime();
        TrainConfig base = resolve(spark, parsed, generatedRunId(spark.sparkContext()));
        MetricsTable table = new MetricsTable(spark, base.metrics());
        requireNewRun(spark.sparkContext(), table, base.runId());

        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        long t0 = System.nanoTime();
        FashionMnist.Split train = FashionMnist.train(base.data(), base.trainLimit(), hadoop);
        FashionMnist.Split test = FashionMnist.test(base.data(), base.testLimit(), hadoop);
        JavaRDD<DataSet> trainShards = Shards.of(MnistFrames.chunks(spark, train, base.workers(), base.seed()), "train");
        JavaRDD<DataSet> testShards = Shards.of(MnistFrames.chunks(spark, test, Math.min(base.workers(), test.count()),
                null), "test");
        trainShards.count();
        testShards.count();
        double loadSeconds = (System.nanoTime() - t0) / 1e9;
        TrainConfig cfg = resolveSync(spark, base);

        String master = spark.sparkContext().master();
        RunInfo run = new RunInfo(cfg.runId(), new Timestamp(System.currentTimeMillis()), cfg, master,
                executorCount(spark), spark.sparkContext().applicationId(), spark.version(), projectVersion(),
                spark.sparkContext().getConf().get("spark.sparkdropout.gitCommit", "unknown"), train, test);
        System.out.printf("run %s: %s%n", cfg.runId(), cfg);
        System.out.printf("data %s: %d train / %d test examples%s, loaded into %d partitions in %.1f s%n",
                cfg.data(), train.count(), test.count(), train.official() && test.official()
                        ? " (official Fashion-MNIST checksums)" : " (checksums differ from official Fashion-MNIST)",
                cfg.workers(), loadSeconds);
        System.out.printf("spark %s master %s (%s): %d worker(s) x %d examples per step, %d native thread(s)"
                        + " each; %s%n", spark.version(), master, spark.sparkContext().applicationId(), cfg.workers(),
                cfg.perWorkerBatchSize(), cfg.threadsPerWorker(), ExecutorEnvironment.of(trainShards));

        List<EpochRecord> records = new ArrayList<>();
        ProgressPrinter progress = new ProgressPrinter(System.out);
        try (EpochAppender appender = new EpochAppender(table)) {
            new Trainer(spark, cfg).fit(trainShards, testShards, (record, eval) -> {
                progress.clear();
                appender.append(MetricsSchema.epochRow(run, record),
                        MetricsSchema.classRows(cfg.runId(), record.epoch(), eval), cfg.runId(), record.epoch());
                records.add(record);
                System.out.printf("epoch %d: loss %.4f, train acc %.3f, test acc %.3f (train %.2f s%s, %.0f ex/s,"
                                + " eval %.2f s)%n", record.epoch(), record.trainLoss(), record.trainAcc(),
                        record.testAcc(), record.trainSeconds(), Double.isNaN(record.workerBusySeconds()) ? ""
                                : String.format(" of which workers busy %.2f s", record.workerBusySeconds()),
                        record.examplesPerSecond(), record.evalSeconds());
                progress.nextEpoch(record.epoch() + 1, cfg.epochs());
            }, progress);
        }
        trainShards.unpersist(false);
        testShards.unpersist(false);

        EpochRecord last = records.get(records.size() - 1);
        double trainTotal = records.stream().mapToDouble(EpochRecord::trainSeconds).sum();
        System.out.printf("done: run %s, %d epochs, final test acc %.4f, %.2f s training (%.2f s/epoch),"
                        + " %.1f s in all%n", cfg.runId(), records.size(), last.testAcc(), trainTotal,
                trainTotal / records.size(), (System.nanoTime() - runStart) / 1e9);
        String plot = new org.apache.hadoop.fs.Path(cfg.metrics(), "plots/" + cfg.runId() + ".png").toString();
        CurvePlot.write(spark, table, List.of(cfg.runId()), plot);
        System.out.printf("plot: %s%n", plot);
        System.out.printf("metrics: %s (query: ./submit.sh sql \"SELECT epoch, train_loss, train_acc, test_acc FROM"
                + " metrics WHERE run_id = '%s' ORDER BY epoch\")%n", table.tablePath(MetricsTable.EPOCHS),
                cfg.runId());
        return 0;
    }

    /**
     * The run id when none is given. Where the cluster manager may run the driver again for the same submission
     * (YARN cluster deploy mode: a new application attempt), it is the application id, which every attempt
     * shares, so a rerun finds its own run instead of starting a second one; else a timestamp and a random suffix.
     */
    static String generatedRunId(org.apache.spark.SparkContext sc) {
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
    static void requireNewRun(org.apache.spark.SparkContext sc, MetricsTable table, String runId) {
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
    static TrainConfig resolve(SparkSession spark, TrainConfig parsed, String generatedRunId) {
        org.apache.spark.SparkContext sc = spark.sparkContext();
        int cores;
        int slots;
        java.util.regex.Matcher local = LOCAL_MASTER.matcher(sc.master());
        if (local.matches()) { // executors live in this JVM: they share this machine's cores
            cores = Runtime.getRuntime().availableProcessors();
            slots = localSlots(local);
        } else {
            cores = sc.getConf().getInt("spark.executor.cores", taskCpus(spark));
            slots = Math.max(1, cores / taskCpus(spark));
        }
        return parsed.resolve(sc.defaultParallelism(), cores, slots, generatedRunId);
    }

    /**
     * Chooses how replicas meet to average, once the data is loaded (so the executors holding it have registered):
     * a barrier stage needs a task slot for every worker at once.
     */
    static TrainConfig resolveSync(SparkSession spark, TrainConfig cfg) {
        org.apache.spark.SparkContext sc = spark.sparkContext();
        // Spark's own count of the task slots of the registered executors (cores / spark.task.cpus): the number its
        // barrier-stage check compares with. private[spark] in Scala, public in bytecode, like the RPC classes the
        // barrier averaging uses (train.AveragingEndpoint).
        int concurrentSlots = sc.maxNumConcurrentTasks(sc.resourceProfileManager().defaultResourceProfile());
        return cfg.withSyncFor(concurrentSlots, sc.getConf().getBoolean("spark.dynamicAllocation.enabled", false));
    }

    private static final java.util.regex.Pattern LOCAL_MASTER =
            java.util.regex.Pattern.compile("local(?:\\[(\\*|\\d+)(?:,\\d+)?])?");

    /** Task slots of a local[N] master: its executor runs N tasks at once in this JVM. */
    private static int localSlots(java.util.regex.Matcher local) {
        String n = local.group(1);
        return n == null ? 1 : n.equals("*") ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(n);
    }

    private static int taskCpus(SparkSession spark) {
        return Math.max(1, spark.sparkContext().getConf().getInt("spark.task.cpus", 1));
    }

    private static int executorCount(SparkSession spark) {
        int n = spark.sparkContext().statusTracker().getExecutorInfos().length;
        return Math.max(1, n - 1); // the list includes the driver; in local mode the driver is the executor
    }

    static String projectVersion() {
        Properties p = new Properties();
        try (InputStream in = TrainCommand.class.getResourceAsStream("/build.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException ignored) {
            // fall through to "unknown"
        }
        return p.getProperty("version", "unknown");
    }

    static String help() {
        StringBuilder sb = new StringBuilder("usage: submit.sh [spark-submit options] train [options]\n"
                + "Defaults from conf/train.properties.\n\n");
        Map<String, String> defaults = TrainConfig.defaults();
        for (Param<?> p : TrainConfig.PARAMS) {
            sb.append(String.format("  --%-20s %s%n  %-22s (%s; default: %s)%n", p.name(), p.description(), "",
                    p.rule(), defaults.get(p.name()).isEmpty() ? "none" : defaults.get(p.name())));
        }
        return sb.toString();
    }
}
