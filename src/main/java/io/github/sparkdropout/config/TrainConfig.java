package io.github.sparkdropout.config;

import io.github.sparkdropout.model.Variant;
import io.github.sparkdropout.train.AveragingSync;
import io.github.sparkdropout.train.StepKind;
import io.github.sparkdropout.train.TrainingMasterKind;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * The whole configuration of a training run: typed, immutable, validated once. Every setting is a {@link Param}
 * declared below; its default comes from {@code conf/train.properties} (packaged as {@code /train.properties});
 * command-line flags override. Everything downstream receives this object and never re-reads flags or files.
 */
public final class TrainConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final Param<Integer> EPOCHS = Param.intParam("epochs", "passes over the training set", 1);
    public static final Param<Variant> VARIANT = Param.enumParam("variant",
            "scratch: our dropout layer + PyTorch-default init; concise: DL4J's dropout + N(0, 0.01) weights",
            Variant.class);
    public static final Param<String> WORKERS = Param.stringParam("workers",
            "model replicas trained in parallel (one Spark partition each); auto = Spark's default parallelism",
            "auto|[1-9][0-9]{0,4}", "auto or an integer >= 1");
    public static final Param<Integer> BATCH_SIZE = Param.intParam("batch-size",
            "global minibatch; each worker takes batch-size / workers examples per step", 1);
    public static final Param<Integer> AVERAGING_FREQUENCY = Param.intParam("averaging-frequency",
            "minibatch steps each worker takes between two parameter averagings", 1);
    public static final Param<AveragingSync> AVERAGING_SYNC = Param.enumParam("averaging-sync",
            "how replicas meet to average (resident master): barrier = one Spark barrier stage per epoch, averaged"
                    + " by the driver over Spark RPC; jobs = one Spark job per round, averaged on the driver; auto = barrier when"
                    + " every worker gets a task slot at once and dynamic allocation is off",
            AveragingSync.class);
    public static final Param<Double> LR = Param.doubleParam("lr", "SGD learning rate", 0, 100, false);
    public static final Param<Double> DROPOUT1 = Param.doubleParam("dropout1",
            "probability of dropping an activation of hidden layer 1 (training only)", 0, 1, true);
    public static final Param<Double> DROPOUT2 = Param.doubleParam("dropout2",
            "probability of dropping an activation of hidden layer 2 (training only)", 0, 1, true);
    public static final Param<Long> SEED = Param.longParam("seed", "seed of initialisation, shuffling and masks");
    public static final Param<String> DATA = Param.stringParam("data",
            "directory or Hadoop URI holding the four Fashion-MNIST IDX .gz files", ".+", "a path or URI");
    public static final Param<String> METRICS = Param.stringParam("metrics",
            "directory or Hadoop URI of the metrics tables (epochs/ and classes/ Parquet)", ".+", "a path or URI");
    public static final Param<String> RUN_ID = Param.stringParam("run-id",
            "name of this run in the metrics table (empty: generated)", "[A-Za-z0-9._-]{0,100}",
            "letters, digits, '.', '_' or '-' (at most 100)");
    public static final Param<Integer> TRAIN_LIMIT = Param.intParam("train-limit",
            "use only the first N training examples (0: all)", 0);
    public static final Param<Integer> TEST_LIMIT = Param.intParam("test-limit",
            "use only the first N test examples (0: all)", 0);
    public static final Param<TrainingMasterKind> TRAINING_MASTER = Param.enumParam("training-master",
            "resident: ours, data and replicas stay in the executors; stock: DL4J's ParameterAveragingTrainingMaster",
            TrainingMasterKind.class);
    public static final Param<StepKind> STEP = Param.enumParam("step",
            "worker SGD step (resident master): lean = ND4J ops on the net's parameters; dl4j = MultiLayerNetwork.fit",
            StepKind.class);

    public static final Param<String> THREADS_PER_WORKER = Param.stringParam("threads-per-worker",
            "native (BLAS/OpenMP) threads each worker's task uses; auto = the executor's cores / its concurrent tasks",
            "auto|[1-9][0-9]{0,3}", "auto or an integer >= 1");

    /** Every setting, in the order --help lists them. */
    public static final List<Param<?>> PARAMS = List.of(EPOCHS, VARIANT, WORKERS, BATCH_SIZE, AVERAGING_FREQUENCY,
            AVERAGING_SYNC, LR, DROPOUT1, DROPOUT2, SEED, DATA, METRICS, RUN_ID, TRAIN_LIMIT, TEST_LIMIT, TRAINING_MASTER, STEP, THREADS_PER_WORKER);

    private final int epochs;
    private final Variant variant;
    private final int workers; // 0 = not yet resolved ("auto")
    private final int batchSize;
    private final int averagingFrequency;
    private final AveragingSync averagingSync; // AUTO until resolved
    private final double lr;
    private final double dropout1;
    private final double dropout2;
    private final long seed;
    private final String data;
    private final String metrics;
    private final String runId;
    private final int trainLimit;
    private final int testLimit;
    private final TrainingMasterKind trainingMaster;
    private final StepKind step;
    private final int threadsPerWorker; // 0 = not yet resolved ("auto")

    private TrainConfig(Map<String, String> values) {
        epochs = EPOCHS.parse(values.get(EPOCHS.name()));
        variant = VARIANT.parse(values.get(VARIANT.name()));
        String w = WORKERS.parse(values.get(WORKERS.name()));
        workers = w.equals("auto") ? 0 : Integer.parseInt(w);
        batchSize = BATCH_SIZE.parse(values.get(BATCH_SIZE.name()));
        averagingFrequency = AVERAGING_FREQUENCY.parse(values.get(AVERAGING_FREQUENCY.name()));
        averagingSync = AVERAGING_SYNC.parse(values.get(AVERAGING_SYNC.name()));
        lr = LR.parse(values.get(LR.name()));
        dropout1 = DROPOUT1.parse(values.get(DROPOUT1.name()));
        dropout2 = DROPOUT2.parse(values.get(DROPOUT2.name()));
        seed = SEED.parse(values.get(SEED.name()));
        data = DATA.parse(values.get(DATA.name()));
        metrics = METRICS.parse(values.get(METRICS.name()));
        runId = RUN_ID.parse(values.getOrDefault(RUN_ID.name(), ""));
        trainLimit = TRAIN_LIMIT.parse(values.get(TRAIN_LIMIT.name()));
        testLimit = TEST_LIMIT.parse(values.get(TEST_LIMIT.name()));
        trainingMaster = TRAINING_MASTER.parse(values.get(TRAINING_MASTER.name()));
        step = STEP.parse(values.get(STEP.name()));
        String t = THREADS_PER_WORKER.parse(values.get(THREADS_PER_WORKER.name()));
        threadsPerWorker = t.equals("auto") ? 0 : Integer.parseInt(t);
        if (variant == Variant.CONCISE && (dropout1 == 1.0 || dropout2 == 1.0)) {
            // DL4J's Dropout takes a retain probability and rejects 0 (= dropping everything).
            throw new ConfigException("--variant concise cannot drop every activation (dropout 1.0): DL4J's Dropout"
                    + " needs a retain probability > 0; use --variant scratch or a dropout below 1");
        }
        if (trainingMaster == TrainingMasterKind.STOCK && averagingSync == AveragingSync.BARRIER) {
            throw new ConfigException("--averaging-sync barrier needs --training-master resident (DL4J's stock"
                    + " master runs one Spark job per averaging round)");
        }
        if (workers > 0) {
            checkBatchSplit(workers);
        }
    }

    private TrainConfig(TrainConfig base, int workers, String runId, int threadsPerWorker, AveragingSync sync) {
        this.epochs = base.epochs;
        this.variant = base.variant;
        this.workers = workers;
        this.batchSize = base.batchSize;
        this.averagingFrequency = base.averagingFrequency;
        this.averagingSync = sync;
        this.lr = base.lr;
        this.dropout1 = base.dropout1;
        this.dropout2 = base.dropout2;
        this.seed = base.seed;
        this.data = base.data;
        this.metrics = base.metrics;
        this.runId = runId;
        this.trainLimit = base.trainLimit;
        this.testLimit = base.testLimit;
        this.trainingMaster = base.trainingMaster;
        this.step = base.step;
        this.threadsPerWorker = threadsPerWorker;
        checkBatchSplit(workers);
    }

    private void checkBatchSplit(int w) {
        if (batchSize % w != 0) {
            throw new ConfigException("--batch-size " + batchSize + " does not split evenly over " + w
                    + " workers: choose a batch size divisible by the worker count");
        }
    }

    /** The defaults of {@code conf/train.properties}, overridden by {@code overrides} (keys are flag names). */
    public static TrainConfig of(Map<String, String> overrides) {
        Map<String, String> values = defaults();
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            if (PARAMS.stream().noneMatch(p -> p.name().equals(e.getKey()))) {
                throw new ConfigException("unknown option --" + e.getKey());
            }
            values.put(e.getKey(), e.getValue());
        }
        return new TrainConfig(values);
    }

    /** The packaged defaults (conf/train.properties), one per {@link #PARAMS} entry. */
    public static Map<String, String> defaults() {
        Properties p = new Properties();
        try (InputStream in = TrainConfig.class.getResourceAsStream("/train.properties")) {
            if (in == null) {
                throw new IllegalStateException("train.properties is missing from the classpath (conf/ not packaged)");
            }
            p.load(in);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read train.properties", e);
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (Param<?> param : PARAMS) {
            String v = p.getProperty(param.name());
            if (v == null) {
                throw new IllegalStateException("conf/train.properties has no default for " + param.name());
            }
            values.put(param.name(), v);
        }
        return values;
    }

    /**
     * This config with "auto" settings made concrete: workers = {@code defaultParallelism}; threads per worker =
     * {@code coresPerExecutor} shared by the tasks that run at once in one executor ({@code slotsPerExecutor},
     * capped by the worker count); an empty run id replaced by {@code generatedRunId}. The averaging sync is
     * resolved separately ({@link #withSyncFor}), once the executors are known.
     */
    public TrainConfig resolve(int defaultParallelism, int coresPerExecutor, int slotsPerExecutor,
                               String generatedRunId) {
        int w = workers > 0 ? workers : defaultParallelism;
        int t = threadsPerWorker > 0 ? threadsPerWorker
                : Math.max(1, coresPerExecutor / Math.max(1, Math.min(w, slotsPerExecutor)));
        return new TrainConfig(this, w, runId.isEmpty() ? generatedRunId : runId, t, averagingSync);
    }

    /**
     * This (resolved) config with the averaging sync made concrete for a cluster with {@code concurrentSlots}
     * task slots: barrier when all workers fit in them at once and {@code dynamicAllocation} is off (Spark
     * refuses barrier stages otherwise), else jobs; an explicit barrier that cannot run is a one-line error.
     */
    public TrainConfig withSyncFor(int concurrentSlots, boolean dynamicAllocation) {
        if (workers < 1) {
            throw new IllegalStateException("workers not resolved yet");
        }
        boolean barrierFits = workers <= concurrentSlots && !dynamicAllocation;
        AveragingSync sync = averagingSync;
        if (trainingMaster == TrainingMasterKind.STOCK) {
            sync = AveragingSync.JOBS;
        } else if (sync == AveragingSync.AUTO) {
            sync = barrierFits ? AveragingSync.BARRIER : AveragingSync.JOBS;
        } else if (sync == AveragingSync.BARRIER && !barrierFits) {
            throw new ConfigException(dynamicAllocation
                    ? "--averaging-sync barrier cannot run with spark.dynamicAllocation.enabled: use --averaging-sync jobs"
                    : "--averaging-sync barrier needs all " + workers + " workers running at once but there are "
                    + concurrentSlots + " task slots: use --workers " + concurrentSlots + " or --averaging-sync jobs");
        }
        return new TrainConfig(this, workers, runId, threadsPerWorker, sync);
    }

    public int epochs() { return epochs; }
    public Variant variant() { return variant; }
    /** Worker count; 0 until {@link #resolve} has replaced "auto". */
    public int workers() { return workers; }
    public int batchSize() { return batchSize; }
    public int perWorkerBatchSize() {
        if (workers == 0) {
            throw new IllegalStateException("workers not resolved yet");
        }
        return batchSize / workers;
    }
    public int averagingFrequency() { return averagingFrequency; }
    /** How replicas meet to average; {@link AveragingSync#AUTO} until {@link #withSyncFor}. */
    public AveragingSync averagingSync() { return averagingSync; }
    public double lr() { return lr; }
    public double dropout1() { return dropout1; }
    public double dropout2() { return dropout2; }
    public long seed() { return seed; }
    public String data() { return data; }
    public String metrics() { return metrics; }
    public String runId() { return runId; }
    public int trainLimit() { return trainLimit; }
    public int testLimit() { return testLimit; }
    public TrainingMasterKind trainingMaster() { return trainingMaster; }
    public StepKind step() { return step; }
    /** Native threads per worker task; 0 until {@link #resolve} has replaced "auto". */
    public int threadsPerWorker() { return threadsPerWorker; }

    public String variantName() {
        return variant.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public String toString() {
        return "variant=" + variantName() + " epochs=" + epochs + " workers=" + (workers == 0 ? "auto" : workers)
                + " batch=" + batchSize + " avg-freq=" + averagingFrequency + " avg-sync="
                + averagingSync.name().toLowerCase(Locale.ROOT) + " lr=" + lr + " dropout=" + dropout1
                + "/" + dropout2 + " seed=" + seed + " training-master=" + trainingMaster.name().toLowerCase(Locale.ROOT)
                + (trainingMaster == TrainingMasterKind.RESIDENT ? " step=" + step.name().toLowerCase(Locale.ROOT) : "");
    }
}
