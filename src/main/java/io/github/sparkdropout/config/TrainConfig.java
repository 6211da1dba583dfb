package io.github.sparkdropout.config;

import io.github.sparkdropout.data.FashionMnist;
import io.github.sparkdropout.data.FrameShards;
import io.github.sparkdropout.model.MlpShape;
import io.github.sparkdropout.model.StepKind;
import io.github.sparkdropout.model.Variant;
import io.github.sparkdropout.spark.Deployment;
import io.github.sparkdropout.train.AveragingSync;
import io.github.sparkdropout.train.TrainingMasterKind;
import io.github.sparkdropout.train.TrainingSettings;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The whole configuration of a training run: typed, immutable, validated once. Every setting is a {@link Setting}
 * declared below, with its default in {@code conf/train.properties} (packaged as {@code /train.properties});
 * command-line flags override. Adding a setting is one declaration here and its default there: the help, the
 * run's description and the metrics table's configuration columns are all generated from {@link #SETTINGS}.
 */
public final class TrainConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final Setting<Variant> VARIANT = Setting.enumSetting("variant",
            "scratch: our dropout layer + PyTorch-default init; concise: DL4J's dropout + N(0, 0.01) weights",
            Variant.class);
    public static final Setting<Integer> EPOCHS = Setting.intSetting("epochs", "passes over the training set", 1);
    public static final Setting<Integer> WORKERS = Setting.intOrAuto("workers",
            "model replicas trained in parallel (one Spark partition each); auto = Spark's default parallelism", 1);
    public static final Setting<Integer> BATCH_SIZE = Setting.intSetting("batch-size",
            "global minibatch; each worker takes batch-size / workers examples per step", 1);
    public static final Setting<Integer> AVERAGING_FREQUENCY = Setting.intSetting("averaging-frequency",
            "minibatch steps each worker takes between two parameter averagings", 1);
    public static final Setting<Double> LR = Setting.doubleSetting("lr", "SGD learning rate", 0, 100, false);
    public static final Setting<int[]> LAYERS = Setting.intList("layers",
            "layer sizes from input to output, comma-separated, as MLlib's layers (Fashion-MNIST: 784 first, 10"
                    + " last)", 1, 3, l -> MlpShape.layersProblem(l) == null,
            "at least 3 sizes >= 1, comma-separated (input, hidden..., output), the output >= 2");
    public static final Setting<double[]> DROPOUTS = Setting.doubleListOrAuto("dropouts",
            "probability of dropping an activation of each hidden layer, comma-separated (training only); auto = 0.2"
                    + " after the first hidden layer, 0.5 after every other (the book's 0.2,0.5 for two)", 0, 1);
    public static final Setting<Long> SEED = Setting.longSetting("seed", "seed of initialisation, shuffling and masks");
    public static final Setting<TrainingMasterKind> TRAINING_MASTER = Setting.enumSetting("training-master",
            "resident: ours, data and replicas stay in the executors; stock: DL4J's ParameterAveragingTrainingMaster",
            TrainingMasterKind.class);
    public static final Setting<StepKind> STEP = Setting.enumSetting("step",
            "worker SGD step (resident master): lean = ND4J ops on the net's parameters; dl4j = MultiLayerNetwork.fit",
            StepKind.class);
    public static final Setting<AveragingSync> AVERAGING_SYNC = Setting.enumSetting("averaging-sync",
            "how replicas meet to average (resident master): barrier = one Spark barrier stage per epoch, averaged"
                    + " by the driver over Spark RPC; jobs = one Spark job per round, averaged on the driver; auto ="
                    + " barrier when every worker gets a task slot at once and dynamic allocation is off",
            AveragingSync.class);
    public static final Setting<Integer> THREADS_PER_WORKER = Setting.intOrAuto("threads-per-worker",
            "native (BLAS/OpenMP) threads each worker's task uses (resident master); auto = the executor's cores /"
                    + " its concurrent tasks", 1);
    public static final Setting<String> DATA = Setting.stringSetting("data",
            "directory or Hadoop URI holding the four Fashion-MNIST IDX .gz files", ".+", "a path or URI")
            .recordedAs("data_source");
    public static final Setting<String> METRICS = Setting.stringSetting("metrics",
            "directory or Hadoop URI of the metrics tables (epochs/ and classes/ Parquet)", ".+", "a path or URI")
            .notRecorded();
    public static final Setting<String> RUN_ID = Setting.stringSetting("run-id",
            "name of this run in the metrics table (empty: generated)", "([A-Za-z0-9][A-Za-z0-9._-]{0,99})?",
            "a letter or digit, then letters, digits, '.', '_' or '-' (at most 100)") // a folder name too: no '..'
            .notRecorded(); // the table's key column
    public static final Setting<Integer> TRAIN_LIMIT = Setting.intSetting("train-limit",
            "use only the first N training examples (0: all)", 0);
    public static final Setting<Integer> TEST_LIMIT = Setting.intSetting("test-limit",
            "use only the first N test examples (0: all)", 0);

    /** Every setting, in the order --help lists them and the metrics table records them. */
    public static final List<Setting<?>> SETTINGS = List.of(VARIANT, EPOCHS, WORKERS, BATCH_SIZE, AVERAGING_FREQUENCY,
            LR, LAYERS, DROPOUTS, SEED, TRAINING_MASTER, STEP, AVERAGING_SYNC, THREADS_PER_WORKER, DATA, METRICS,
            RUN_ID, TRAIN_LIMIT, TEST_LIMIT);

    /** Settings that mean something for our resident master only (DL4J's stock master has its own step and threads). */
    private static final Set<Setting<?>> RESIDENT_ONLY = Set.of(STEP, THREADS_PER_WORKER);

    private final Map<String, Object> values; // by param name, parsed and validated

    private TrainConfig(Map<String, Object> values) {
        this.values = Collections.unmodifiableMap(values);
    }

    /**
     * The defaults of {@code conf/train.properties}, overridden by {@code overrides} (keys are flag names); checks
     * every value and the combinations.
     */
    public static TrainConfig of(Map<String, String> overrides) {
        return build(defaults(), overrides);
    }

    /** Settings of earlier versions, and what took their place. */
    private static final Map<String, String> RETIRED = Map.of(
            "dropout1", "--dropout1 and --dropout2 became --dropouts P1,P2 (one probability per hidden layer)",
            "dropout2", "--dropout1 and --dropout2 became --dropouts P1,P2 (one probability per hidden layer)");

    private static TrainConfig build(Map<String, String> base, Map<String, String> given) {
        Map<String, String> raw = new LinkedHashMap<>(base);
        for (Map.Entry<String, String> e : given.entrySet()) {
            if (RETIRED.containsKey(e.getKey())) {
                throw new UsageException(RETIRED.get(e.getKey()));
            }
            if (!raw.containsKey(e.getKey())) {
                throw new UsageException("unknown option --" + e.getKey());
            }
            raw.put(e.getKey(), e.getValue());
        }
        Map<String, Object> values = new LinkedHashMap<>();
        for (Setting<?> p : SETTINGS) {
            values.put(p.name(), p.parse(raw.get(p.name())));
        }
        int[] layers = (int[]) values.get(LAYERS.name());
        if (values.get(DROPOUTS.name()) == null) { // auto: the book's rule for this depth
            values.put(DROPOUTS.name(), MlpShape.defaultDropouts(layers.length - 2));
        }
        TrainConfig c = new TrainConfig(values);
        c.check(given.keySet());
        return c;
    }

    /** Settings a resumed run may change: how long it trains, where its tables and data are, how replicas meet. */
    private static final Set<Setting<?>> RESUMABLE = Set.of(EPOCHS, METRICS, DATA, AVERAGING_SYNC);

    /**
     * The configuration of a resumed run: its recorded settings ({@link #toFlags} of the run's resolved config),
     * with the flags {@code given} for the resume. Flags that would change the result (everything but --epochs,
     * --metrics, --data (the same files: checked against the recorded checksums) and --averaging-sync (both
     * transports give the same model)) must repeat the recorded value. The averaging sync is chosen again for
     * the deployment the run resumes on.
     */
    public static TrainConfig resumed(Map<String, String> recorded, Map<String, String> given) {
        Map<String, String> base = new LinkedHashMap<>(defaults());
        base.putAll(recorded);
        if (recorded.containsKey("dropout1") && !recorded.containsKey(DROPOUTS.name())) {
            // recorded before --dropouts: the book's network with its two probabilities
            base.put(DROPOUTS.name(), recorded.get("dropout1") + "," + recorded.get("dropout2"));
        }
        base.keySet().retainAll(SETTINGS.stream().map(Setting::name).toList());
        base.put(AVERAGING_SYNC.name(), AveragingSync.AUTO.name().toLowerCase(java.util.Locale.ROOT));
        TrainConfig run = build(base, Map.of());
        for (Map.Entry<String, String> e : given.entrySet()) {
            Setting<?> p = SETTINGS.stream().filter(q -> q.name().equals(e.getKey())).findFirst()
                    .orElseThrow(() -> new UsageException("unknown option --" + e.getKey()));
            if (!RESUMABLE.contains(p) && !p.same(p.parse(e.getValue()), run.values.get(p.name()))) {
                throw new UsageException("--" + p.name() + " " + e.getValue() + " differs from run '" + run.runId()
                        + "' (" + p.format(run.values.get(p.name())) + "): a resumed run keeps the settings its result"
                        + " depends on; only --epochs, --metrics, --data and --averaging-sync may change");
            }
        }
        Map<String, String> resumable = new LinkedHashMap<>();
        given.forEach((k, v) -> {
            if (RESUMABLE.stream().anyMatch(p -> p.name().equals(k))) {
                resumable.put(k, v);
            }
        });
        return build(base, resumable);
    }

    /** Every setting as the flag that gives it (resolved values, so a run can be rebuilt exactly). */
    public Map<String, String> toFlags() {
        Map<String, String> out = new LinkedHashMap<>();
        for (Setting<?> p : SETTINGS) {
            out.put(p.name(), p.format(values.get(p.name())));
        }
        return out;
    }

    private void check(Set<String> given) {
        String shapeProblem = MlpShape.problem("--layers", layers(), "--dropouts", dropouts());
        if (shapeProblem != null) {
            throw new UsageException(shapeProblem);
        }
        if (!data().equals(FrameShards.DATA_SOURCE) && (layers()[0] != FashionMnist.PIXELS
                || shape().classes() != FashionMnist.CLASSES)) {
            throw new UsageException("--layers " + MlpShape.text(layers()) + " does not fit Fashion-MNIST: it must"
                    + " start with " + FashionMnist.PIXELS + " (28 x 28 pixels) and end with " + FashionMnist.CLASSES
                    + " (classes); only the hidden sizes between are yours to choose");
        }
        if (variant() == Variant.CONCISE && java.util.Arrays.stream(dropouts()).anyMatch(d -> d == 1.0)) {
            // DL4J's Dropout takes a retain probability and rejects 0 (= dropping everything).
            throw new UsageException("--variant concise cannot drop every activation (dropout 1.0): DL4J's Dropout"
                    + " needs a retain probability > 0; use --variant scratch or a dropout below 1");
        }
        if (trainingMaster() == TrainingMasterKind.STOCK) {
            for (Setting<?> p : RESIDENT_ONLY) {
                if (given.contains(p.name())) {
                    throw new UsageException("--" + p.name() + " applies to --training-master resident only (DL4J's"
                            + " stock master steps with MultiLayerNetwork.fit and its own threads)");
                }
            }
            if (averagingSync() == AveragingSync.BARRIER) {
                throw new UsageException("--averaging-sync barrier needs --training-master resident (DL4J's stock"
                        + " master runs one Spark job per averaging round)");
            }
        }
        if (get(WORKERS) != null) {
            checkBatchSplit(workers());
        }
    }

    private void checkBatchSplit(int w) {
        if (batchSize() % w != 0) {
            throw new UsageException("--batch-size " + batchSize() + " does not split evenly over " + w
                    + " workers: choose a batch size divisible by the worker count");
        }
    }

    private TrainConfig with(Map<Setting<?>, Object> changes) {
        Map<String, Object> v = new LinkedHashMap<>(values);
        changes.forEach((p, value) -> v.put(p.name(), value));
        return new TrainConfig(v);
    }

    /** The packaged defaults (conf/train.properties), one per {@link #SETTINGS} entry. */
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
        for (Setting<?> param : SETTINGS) {
            String v = p.getProperty(param.name());
            if (v == null) {
                throw new IllegalStateException("conf/train.properties has no default for " + param.name());
            }
            values.put(param.name(), v);
        }
        return values;
    }

    /**
     * This config with "auto" settings made concrete for {@code deployment}: workers = its default parallelism;
     * threads per worker = an executor's cores shared by the tasks it runs at once (its slots, capped by the
     * worker count; the stock master caps none); an empty run id replaced by {@code generatedRunId}; the stock
     * master's step is DL4J's fit. The averaging sync is resolved separately ({@link #withSyncFor}), once the
     * executors are known.
     */
    public TrainConfig resolve(Deployment deployment, String generatedRunId) {
        int w = get(WORKERS) != null ? get(WORKERS) : deployment.defaultParallelism();
        boolean resident = trainingMaster() == TrainingMasterKind.RESIDENT;
        Integer t = !resident ? null : get(THREADS_PER_WORKER) != null ? get(THREADS_PER_WORKER)
                : Integer.valueOf(Math.max(1, deployment.coresPerExecutor()
                / Math.max(1, Math.min(w, deployment.slotsPerExecutor()))));
        Map<Setting<?>, Object> changes = new HashMap<>();
        changes.put(WORKERS, w);
        changes.put(THREADS_PER_WORKER, t);
        changes.put(RUN_ID, runId().isEmpty() ? generatedRunId : runId());
        changes.put(STEP, resident ? step() : StepKind.DL4J);
        TrainConfig c = with(changes);
        c.checkBatchSplit(w);
        return c;
    }

    /**
     * This (resolved) config with the averaging sync made concrete for {@code deployment}'s registered executors:
     * barrier when all workers fit in their task slots at once and dynamic allocation is off (Spark refuses
     * barrier stages otherwise), else jobs; an explicit barrier that cannot run is a one-line error.
     */
    public TrainConfig withSyncFor(Deployment deployment) {
        int concurrentSlots = deployment.concurrentSlots();
        boolean dynamicAllocation = deployment.dynamicAllocation();
        boolean barrierFits = workers() <= concurrentSlots && !dynamicAllocation;
        AveragingSync sync = averagingSync();
        if (trainingMaster() == TrainingMasterKind.STOCK) {
            sync = AveragingSync.JOBS;
        } else if (sync == AveragingSync.AUTO) {
            sync = barrierFits ? AveragingSync.BARRIER : AveragingSync.JOBS;
        } else if (sync == AveragingSync.BARRIER && !barrierFits) {
            throw new UsageException(dynamicAllocation
                    ? "--averaging-sync barrier cannot run with spark.dynamicAllocation.enabled: use --averaging-sync jobs"
                    : "--averaging-sync barrier needs all " + workers() + " workers running at once but there are "
                    + concurrentSlots + " task slots: use --workers " + concurrentSlots + " or --averaging-sync jobs");
        }
        return with(Map.of(AVERAGING_SYNC, sync));
    }

    /** The settings distributed training uses (this config must be resolved). */
    public TrainingSettings trainingSettings() {
        return new TrainingSettings(trainingMaster(), workers(), perWorkerBatchSize(), averagingFrequency(),
                averagingSync(), seed(), step(), threadsPerWorker().orElse(1));
    }

    /** The value of {@code p}. */
    public <T> T get(Setting<T> p) {
        return p.type().cast(values.get(p.name()));
    }

    /** The recorded settings, by column, as the metrics table stores them. */
    public Map<String, Object> recordedValues() {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Setting<?> p : SETTINGS) {
            if (p.column() != null) {
                out.put(p.column(), p.recorded(values.get(p.name())));
            }
        }
        return out;
    }

    public Variant variant() { return get(VARIANT); }
    public int epochs() { return get(EPOCHS); }
    /** Worker count, once {@link #resolve} has made "auto" concrete. */
    public int workers() {
        Integer w = get(WORKERS);
        if (w == null) {
            throw new IllegalStateException("--workers is auto until the config is resolved for a deployment");
        }
        return w;
    }
    public int batchSize() { return get(BATCH_SIZE); }
    public int perWorkerBatchSize() {
        return batchSize() / workers();
    }
    public int averagingFrequency() { return get(AVERAGING_FREQUENCY); }
    /** How replicas meet to average; {@link AveragingSync#AUTO} until {@link #withSyncFor}. */
    public AveragingSync averagingSync() { return get(AVERAGING_SYNC); }
    public double lr() { return get(LR); }
    /** Layer sizes, input to output. */
    public int[] layers() { return get(LAYERS).clone(); }
    /** Drop probabilities, one per hidden layer ("auto" resolved when the config is built). */
    public double[] dropouts() { return get(DROPOUTS).clone(); }
    /** The network's shape: {@link #layers} and {@link #dropouts}. */
    public MlpShape shape() { return new MlpShape(get(LAYERS), get(DROPOUTS)); }
    public long seed() { return get(SEED); }
    public String data() { return get(DATA); }
    public String metrics() { return get(METRICS); }
    public String runId() { return get(RUN_ID); }
    public int trainLimit() { return get(TRAIN_LIMIT); }
    public int testLimit() { return get(TEST_LIMIT); }
    public TrainingMasterKind trainingMaster() { return get(TRAINING_MASTER); }
    public StepKind step() { return get(STEP); }
    /**
     * Native threads per worker task, once {@link #resolve} has made "auto" concrete; none for DL4J's stock
     * master, which caps no threads.
     */
    public OptionalInt threadsPerWorker() {
        Integer t = get(THREADS_PER_WORKER);
        return t == null ? OptionalInt.empty() : OptionalInt.of(t);
    }

    /** {@code name=value} for every recorded setting that applies (not the data location), as the flags read. */
    @Override
    public String toString() {
        return SETTINGS.stream().filter(p -> p.column() != null && p != DATA)
                .filter(p -> trainingMaster() == TrainingMasterKind.RESIDENT || !RESIDENT_ONLY.contains(p))
                .map(p -> p.name() + "=" + p.format(values.get(p.name()))).collect(Collectors.joining(" "));
    }
}
