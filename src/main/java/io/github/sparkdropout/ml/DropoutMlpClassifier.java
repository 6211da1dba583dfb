package io.github.sparkdropout.ml;

import io.github.sparkdropout.config.UsageException;
import io.github.sparkdropout.config.Setting;
import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.data.DataException;
import io.github.sparkdropout.data.FeatureRange;
import io.github.sparkdropout.data.FrameShards;
import io.github.sparkdropout.data.Shards;
import io.github.sparkdropout.fs.LiteralPaths;
import io.github.sparkdropout.job.TrainJob;
import io.github.sparkdropout.job.TrainingData;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.DoubleArrayParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntArrayParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReadable;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.when;

/**
 * A dense dropout MLP as a Spark ML {@link Estimator}: {@link #fit} trains it on a frame's partitions with the
 * job's own parameter-averaging master (the same code path as {@code ./submit.sh train}) and returns a
 * {@link DropoutMlpModel}. The frame needs a vector column of finite values, dense or sparse ({@code featuresCol}),
 * and a label column of classes 0..k-1 ({@code labelCol}); rows where the optional boolean
 * {@code validationIndicatorCol} is true are held out and evaluated after every epoch (the recorded
 * {@code test_acc}). The network is {@code layers} (MLlib's: sizes from input to output) with {@code dropouts}
 * (one per hidden layer); unset, the input is the features' size, the output the number of classes (as MLlib
 * counts them: the label column's metadata, else max label + 1), and the hidden part is the book's. With
 * {@code metrics} set, the fit records its epochs, checkpoints, model and plot there exactly as the job does.
 *
 * <p>The training settings are the job's own declarations ({@link TrainConfig}), with their defaults, rules and
 * checks: a value the command line refuses, the Estimator refuses too.
 *
 * <p>Not a {@code ProbabilisticClassifier}: Spark's Scala predictor classes create their params in their own
 * constructors from {@code uid()}, before a Java subclass can set it, and their {@code fit} scans the labels again
 * and scores row by row; this Estimator checks every row in one job and scores in batches.
 */
public final class DropoutMlpClassifier extends Estimator<DropoutMlpModel> implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final Map<Setting<?>, Param<?>> settings;
    private final ColumnParams columns;
    private final Param<String> labelCol;
    private final Param<String> validationIndicatorCol;

    public DropoutMlpClassifier() {
        this(Identifiable$.MODULE$.randomUID("dropoutMlp"));
    }

    public DropoutMlpClassifier(String uid) {
        this.uid = uid;
        this.columns = new ColumnParams(uid);
        this.labelCol = new Param<>(uid, "labelCol", "label column name (classes 0..k-1)");
        this.validationIndicatorCol = new Param<>(uid, "validationIndicatorCol",
                "name of a boolean column: true marks rows held out and evaluated after every epoch (optional)");
        this.settings = SharedParams.declare(this);
        columns.setDefaults(this::setDefaultValue);
        setDefaultValue(labelCol, "label");
        settings.forEach((declaration, p) -> {
            Object v = SharedParams.sparkDefault(declaration);
            if (v != null) {
                setDefaultValue(p, v);
            }
        });
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private void setDefaultValue(Param p, Object value) {
        setDefault(p, value);
    }

    @Override
    public String uid() {
        return uid;
    }

    // ---- columns

    public Param<String> featuresCol() { return columns.featuresCol; }
    public Param<String> labelCol() { return labelCol; }
    public Param<String> predictionCol() { return columns.predictionCol; }
    public Param<String> probabilityCol() { return columns.probabilityCol; }
    public Param<String> rawPredictionCol() { return columns.rawPredictionCol; }
    public Param<String> featuresOutOfRangeCol() { return columns.featuresOutOfRangeCol; }
    public Param<String> validationIndicatorCol() { return validationIndicatorCol; }

    public DropoutMlpClassifier setFeaturesCol(String v) { return put(featuresCol(), v); }
    public DropoutMlpClassifier setLabelCol(String v) { return put(labelCol, v); }
    public DropoutMlpClassifier setPredictionCol(String v) { return put(predictionCol(), v); }
    public DropoutMlpClassifier setProbabilityCol(String v) { return put(probabilityCol(), v); }
    public DropoutMlpClassifier setRawPredictionCol(String v) { return put(rawPredictionCol(), v); }
    public DropoutMlpClassifier setFeaturesOutOfRangeCol(String v) { return put(featuresOutOfRangeCol(), v); }
    public DropoutMlpClassifier setValidationIndicatorCol(String v) { return put(validationIndicatorCol, v); }

    public String getFeaturesCol() { return getOrDefault(featuresCol()); }
    public String getLabelCol() { return getOrDefault(labelCol); }

    // ---- training settings: declared once in TrainConfig; these are their Spark ML faces

    private Param<?> setting(Setting<?> declaration) {
        return settings.get(declaration);
    }

    public Param<String> variant() { return cast(setting(TrainConfig.VARIANT)); }
    public IntParam epochs() { return (IntParam) setting(TrainConfig.EPOCHS); }
    public IntParam workers() { return (IntParam) setting(TrainConfig.WORKERS); }
    public IntParam batchSize() { return (IntParam) setting(TrainConfig.BATCH_SIZE); }
    public IntParam averagingFrequency() { return (IntParam) setting(TrainConfig.AVERAGING_FREQUENCY); }
    public DoubleParam lr() { return (DoubleParam) setting(TrainConfig.LR); }
    /** Layer sizes from input to output, as MLlib's {@code layers}; unset: the frame's sizes around the book's. */
    public IntArrayParam layers() { return (IntArrayParam) setting(TrainConfig.LAYERS); }
    /** One drop probability per hidden layer; unset: 0.2 after the first, 0.5 after every other. */
    public DoubleArrayParam dropouts() { return (DoubleArrayParam) setting(TrainConfig.DROPOUTS); }
    public LongParam seed() { return (LongParam) setting(TrainConfig.SEED); }
    public Param<String> trainingMaster() { return cast(setting(TrainConfig.TRAINING_MASTER)); }
    public Param<String> step() { return cast(setting(TrainConfig.STEP)); }
    public Param<String> averagingSync() { return cast(setting(TrainConfig.AVERAGING_SYNC)); }
    public IntParam threadsPerWorker() { return (IntParam) setting(TrainConfig.THREADS_PER_WORKER); }
    public Param<String> metrics() { return cast(setting(TrainConfig.METRICS)); }
    public Param<String> runId() { return cast(setting(TrainConfig.RUN_ID)); }

    public DropoutMlpClassifier setVariant(String v) { return put(variant(), v); }
    public DropoutMlpClassifier setEpochs(int v) { return put(epochs(), v); }
    /** 0: auto (Spark's default parallelism). */
    public DropoutMlpClassifier setWorkers(int v) { return put(workers(), v); }
    public DropoutMlpClassifier setBatchSize(int v) { return put(batchSize(), v); }
    public DropoutMlpClassifier setAveragingFrequency(int v) { return put(averagingFrequency(), v); }
    public DropoutMlpClassifier setLr(double v) { return put(lr(), v); }
    public DropoutMlpClassifier setLayers(int[] v) { return put(layers(), v); }
    public DropoutMlpClassifier setDropouts(double[] v) { return put(dropouts(), v); }
    public DropoutMlpClassifier setSeed(long v) { return put(seed(), v); }
    public DropoutMlpClassifier setTrainingMaster(String v) { return put(trainingMaster(), v); }
    public DropoutMlpClassifier setStep(String v) { return put(step(), v); }
    public DropoutMlpClassifier setAveragingSync(String v) { return put(averagingSync(), v); }
    /** 0: auto (the executor's cores shared by its concurrent tasks). */
    public DropoutMlpClassifier setThreadsPerWorker(int v) { return put(threadsPerWorker(), v); }
    /** Where to record the fit's epochs, checkpoints, model and plot (unset: nothing is written). */
    public DropoutMlpClassifier setMetrics(String v) { return put(metrics(), v); }
    public DropoutMlpClassifier setRunId(String v) { return put(runId(), v); }

    public String getVariant() { return getOrDefault(variant()); }
    public int getEpochs() { return (Integer) getOrDefault(epochs()); }
    public int getWorkers() { return (Integer) getOrDefault(workers()); }
    public int getBatchSize() { return (Integer) getOrDefault(batchSize()); }
    public int getAveragingFrequency() { return (Integer) getOrDefault(averagingFrequency()); }
    public double getLr() { return (Double) getOrDefault(lr()); }
    /** The layers set; unset, the fit takes them from the frame (as MLlib, there is no default to get). */
    public int[] getLayers() { return (int[]) getOrDefault(layers()); }
    public double[] getDropouts() { return (double[]) getOrDefault(dropouts()); }
    public long getSeed() { return (Long) getOrDefault(seed()); }

    @SuppressWarnings("unchecked")
    private static Param<String> cast(Param<?> p) {
        return (Param<String>) p;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private DropoutMlpClassifier put(Param p, Object value) {
        set(p, value);
        return this;
    }

    /**
     * The job's configuration for this fit: the settings set on this Estimator as flags over the packaged
     * defaults, checked as the command line checks them (one-line {@code UsageException}); {@code layers} where
     * the Estimator has none set.
     */
    TrainConfig trainConfig(int[] layers) {
        Map<String, String> flags = new LinkedHashMap<>();
        flags.put(TrainConfig.LAYERS.name(), TrainConfig.LAYERS.format(layers));
        settings.forEach((declaration, p) -> {
            if (isSet(p)) {
                flags.put(declaration.name(), SharedParams.flagText(declaration, getOrDefault(p)));
            }
        });
        flags.put(TrainConfig.DATA.name(), FrameShards.DATA_SOURCE);
        try {
            return TrainConfig.of(flags);
        } catch (UsageException e) {
            throw new UsageException(SharedParams.inParamNames(e.getMessage()));
        }
    }

    @Override
    public DropoutMlpModel fit(Dataset<?> dataset) {
        transformSchema(dataset.schema());
        // bad settings fail here, before any Spark job (the frame's sizes may take one)
        trainConfig(isSet(layers()) ? getLayers() : frameLayersWithoutJobs(dataset.schema()));
        Dataset<Row> frame = dataset.toDF();
        List<String> classNames;
        int[] shape;
        if (isSet(layers())) {
            shape = getLayers();
            classNames = namesOf(frame.schema(), shape[shape.length - 1]);
        } else {
            classNames = FrameShards.classes(frame, getLabelCol());
            shape = withEnds(FrameShards.vectorSize(frame, getFeaturesCol()), classNames.size());
        }
        TrainConfig parsed = trainConfig(shape);
        String indicator = isDefined(validationIndicatorCol) ? getOrDefault(validationIndicatorCol) : null;
        boolean record = isDefined(metrics());
        TrainJob job = new TrainJob(frame.sparkSession(), new LoggedOutput(LoggerFactory.getLogger(
                DropoutMlpClassifier.class)));
        FeatureRange[] trained = new FeatureRange[1];
        MultiLayerNetwork net = job.run(parsed, cfg -> load(frame, indicator, cfg, classNames, trained), record);
        DropoutMlpModel model = new DropoutMlpModel(uid, net, trained[0]);
        copyValues(model, new ParamMap());
        model.setParent(this);
        return model;
    }

    /** {@code features}, the default hidden layers, {@code classes}. */
    private static int[] withEnds(int features, int classes) {
        int[] hidden = SharedParams.defaultHidden();
        int[] layers = new int[hidden.length + 2];
        layers[0] = features;
        System.arraycopy(hidden, 0, layers, 1, hidden.length);
        layers[layers.length - 1] = classes;
        return layers;
    }

    /** Layers to check settings with before any job: the frame's where its metadata tells, placeholders else. */
    private int[] frameLayersWithoutJobs(StructType schema) {
        int features = org.apache.spark.ml.attribute.AttributeGroup.fromStructField(schema.apply(getFeaturesCol()))
                .size();
        return withEnds(Math.max(features, 1), FrameShards.nominalClasses(schema, getLabelCol())
                .map(List::size).filter(k -> k >= 2).orElse(2));
    }

    /**
     * The names of {@code classes} classes: the label column's (StringIndexer's metadata), else their numbers. A
     * label column whose metadata counts other classes than {@code layers} ends with is refused.
     */
    private List<String> namesOf(StructType schema, int classes) {
        java.util.Optional<List<String>> nominal = FrameShards.nominalClasses(schema, getLabelCol());
        if (nominal.isPresent() && nominal.get().size() != classes) {
            throw new DataException("column '" + getLabelCol() + "' has " + nominal.get().size() + " classes (its"
                    + " metadata) but layers ends with " + classes + ": make the output layer the number of classes");
        }
        return nominal.orElseGet(() -> java.util.stream.IntStream.range(0, classes).mapToObj(Integer::toString)
                .toList());
    }

    /**
     * The frame as training shards (one per worker) and, with a validation indicator, evaluation shards; the
     * training rows' feature range goes into {@code trained[0]}.
     */
    private TrainingData load(Dataset<Row> frame, String indicator, TrainConfig cfg, List<String> classNames,
                              FeatureRange[] trained) {
        long t0 = System.nanoTime();
        String features = getFeaturesCol();
        String label = getLabelCol();
        int inputs = cfg.shape().inputs();
        int classes = cfg.shape().classes();
        if (indicator == null) {
            FrameShards.Loaded train = FrameShards.of(frame, features, label, cfg.workers(), "training", inputs,
                    classes);
            trained[0] = train.range();
            return new TrainingData(train.shards(), null, train.provenance(), FrameShards.Provenance.NONE,
                    classNames, " (a DataFrame; no validation rows)", (System.nanoTime() - t0) / 1e9,
                    train::release);
        }
        Row marks = frame.agg(count(when(col(indicator).isNull(), 1)), count(when(col(indicator), 1))).first();
        if (marks.getLong(0) > 0) {
            throw new DataException("column '" + indicator + "' has " + marks.getLong(0) + " null value(s): mark"
                    + " every row true (validation) or false (training)");
        }
        if (marks.getLong(1) == 0) {
            throw new DataException("column '" + indicator + "' marks no row true: nothing to validate on (leave"
                    + " validationIndicatorCol unset to train without validation)");
        }
        FrameShards.Loaded train = FrameShards.of(frame.where(not(col(indicator))), features, label, cfg.workers(),
                "training", inputs, classes);
        trained[0] = train.range();
        FrameShards.Loaded validation;
        try {
            validation = FrameShards.of(frame.where(col(indicator)), features, label,
                    (int) Math.min(cfg.workers(), marks.getLong(1)), "validation", inputs, classes);
        } catch (RuntimeException e) {
            train.release();
            throw e;
        }
        // each epoch's stage zips a worker's training and validation shards: cached on one executor (Shards.beside)
        JavaRDD<DataSet> validationShards = validation.shards();
        if (validationShards.getNumPartitions() == train.shards().getNumPartitions()) {
            try {
                validationShards = Shards.beside(train.shards(), validation.shards(), d -> d, "validation");
                validationShards.count();
            } catch (RuntimeException e) {
                validationShards.unpersist(false);
                train.release();
                validation.release();
                throw e;
            }
            validation.release(); // the shards moved, their first home goes
        }
        JavaRDD<DataSet> cachedValidation = validationShards;
        return new TrainingData(train.shards(), cachedValidation, train.provenance(), validation.provenance(),
                classNames, " (a DataFrame; validation rows marked by " + indicator + ")", (System.nanoTime() - t0) / 1e9,
                () -> {
                    train.release();
                    validation.release();
                    cachedValidation.unpersist(false);
                });
    }

    @Override
    public StructType transformSchema(StructType schema) {
        FrameShards.requireColumns(schema, getFeaturesCol(), getLabelCol());
        if (isDefined(validationIndicatorCol)) {
            String indicator = getOrDefault(validationIndicatorCol);
            if (!Arrays.asList(schema.fieldNames()).contains(indicator)) {
                throw new DataException("column '" + indicator + "' (validationIndicatorCol) not found; the frame"
                        + " has: " + String.join(", ", schema.fieldNames()));
            }
            if (!DataTypes.BooleanType.equals(schema.apply(indicator).dataType())) {
                throw new DataException("column '" + indicator + "' is " + schema.apply(indicator).dataType()
                        .simpleString() + ", not a boolean (validationIndicatorCol)");
            }
        }
        return ColumnParams.withOutputs(schema, getFeaturesCol(), getOrDefault(rawPredictionCol()),
                getOrDefault(probabilityCol()), getOrDefault(predictionCol()), getOrDefault(featuresOutOfRangeCol()));
    }

    @Override
    public DropoutMlpClassifier copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    public static MLReader<DropoutMlpClassifier> read() {
        return new MLReader<>() {
            @Override
            public DropoutMlpClassifier load(String path) {
                // Spark's reader reads the metadata with textFile, which globs: e[1] would read e1's
                return new DefaultParamsReadable<DropoutMlpClassifier>() {
                }.read().session(sparkSession()).load(LiteralPaths.asGlob(new org.apache.hadoop.fs.Path(path)));
            }
        };
    }

    public static DropoutMlpClassifier load(String path) {
        return read().load(path);
    }
}
