package io.github.sparkdropout.bench;

import io.github.sparkdropout.model.MlpShape;
import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.data.FashionMnist;
import io.github.sparkdropout.data.MnistFrames;
import io.github.sparkdropout.data.Shuffle;
import io.github.sparkdropout.model.DropoutMlp;
import io.github.sparkdropout.job.TrainJob;
import io.github.sparkdropout.model.MinibatchStep;
import io.github.sparkdropout.model.StepKind;
import org.apache.spark.ml.classification.MultilayerPerceptronClassificationModel;
import org.apache.spark.ml.classification.MultilayerPerceptronClassifier;
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One measurement of bench/speed.sh, in its own JVM: {@code job} (this job in Spark, resident master),
 * {@code single-dl4j} / {@code single-lean} (one JVM, no Spark, DL4J's fit or our lean step over minibatches of the
 * global batch size), {@code mllib} (Spark MLlib's MultilayerPerceptronClassifier, 784-256-256-10).
 * Prints one line {@code RESULT mode=... epoch_s=... per-epoch=[...] test_acc=... peak_rss_mb=...}.
 */
public final class SpeedBench {
    /** Forward + backward FLOPs of one epoch, the convention of the issue and the reference (~97 GFLOP). */
    static final double GFLOP_PER_EPOCH = 97.0;

    private SpeedBench() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        int epochs = Integer.parseInt(args[1]);
        String data = args.length > 2 ? args[2] : "data/fashion-mnist";
        org.apache.hadoop.conf.Configuration hc = new org.apache.hadoop.conf.Configuration();
        FashionMnist.Split train = FashionMnist.train(data, 0, hc);
        FashionMnist.Split test = FashionMnist.test(data, 0, hc);
        List<Double> seconds = new ArrayList<>();
        double testAcc;
        switch (mode) {
            case "job" -> testAcc = job(data, epochs, seconds, args.length > 3 ? args[3] : "");
            case "single-dl4j" -> testAcc = single(train, test, epochs, seconds, StepKind.DL4J);
            case "single-lean" -> testAcc = single(train, test, epochs, seconds, StepKind.LEAN);
            case "mllib" -> testAcc = mllib(train, test, epochs, seconds);
            default -> throw new IllegalArgumentException("mode: job | single-dl4j | single-lean | mllib");
        }
        // steady state: the median of the epochs after the first two (JIT and caches warm up in those)
        List<Double> steady = new ArrayList<>(seconds.subList(Math.min(2, seconds.size() - 1), seconds.size()));
        steady.sort(null);
        double median = steady.get(steady.size() / 2);
        StringBuilder per = new StringBuilder();
        for (double s : seconds) {
            per.append(per.length() == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.2f", s));
        }
        System.out.printf(Locale.ROOT, "RESULT mode=%s epoch_s=%.3f spread_s=%.3f-%.3f gflops=%.1f per_epoch=[%s]"
                        + " test_acc=%.4f peak_rss_mb=%d%n", mode, median, steady.get(0),
                steady.get(steady.size() - 1), GFLOP_PER_EPOCH / median, per, testAcc, peakRssMb());
        System.exit(0);
    }

    static double job(String data, int epochs, List<Double> seconds, String extra) throws java.io.IOException {
        SparkSession spark = SparkSession.builder().master(System.getProperty("spark.master", "local[2]"))
                .appName("bench").config("spark.ui.enabled", "false").getOrCreate();
        Map<String, String> flags = new java.util.HashMap<>(Map.of("epochs", "" + epochs, "data", data));
        for (String kv : extra.split(",")) {
            if (kv.contains("=")) {
                flags.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
            }
        }
        flags.put("metrics", Files.createTempDirectory("bench-metrics").toString());
        double[] last = new double[1];
        io.github.sparkdropout.RecordingOutput out = new io.github.sparkdropout.RecordingOutput(System.out);
        new TrainJob(spark, out).run(TrainConfig.of(flags));
        out.epochs.forEach(r -> seconds.add(r.trainSeconds()));
        last[0] = out.epochs.get(out.epochs.size() - 1).testAcc();
        return last[0];
    }

    static double single(FashionMnist.Split train, FashionMnist.Split test, int epochs, List<Double> seconds,
                         StepKind kind) {
        TrainConfig cfg = TrainConfig.of(Map.of());
        MultiLayerNetwork net = DropoutMlp.create(cfg.variant(), cfg.lr(), cfg.shape(), cfg.seed());
        INDArray[] xy = toArrays(train);
        MinibatchStep step = MinibatchStep.of(kind, net);
        int n = train.count();
        int b = cfg.batchSize();
        INDArray bx = Nd4j.createUninitialized(DataType.FLOAT, b, 784);
        INDArray by = Nd4j.createUninitialized(DataType.FLOAT, b, 10);
        for (int e = 0; e < epochs; e++) {
            int[] perm = Shuffle.permutation(n, e);
            long t0 = System.nanoTime();
            for (int from = 0; from < n; from += b) {
                int[] idx = java.util.Arrays.copyOfRange(perm, from, Math.min(n, from + b));
                INDArray x = idx.length == b ? bx : Nd4j.createUninitialized(DataType.FLOAT, idx.length, 784);
                INDArray y = idx.length == b ? by : Nd4j.createUninitialized(DataType.FLOAT, idx.length, 10);
                Nd4j.pullRows(xy[0], x, 1, idx);
                Nd4j.pullRows(xy[1], y, 1, idx);
                step.step(net, x, y);
            }
            seconds.add((System.nanoTime() - t0) / 1e9);
            System.out.printf(Locale.ROOT, "epoch %d: train %.2f s%n", e + 1, seconds.get(e));
        }
        INDArray[] t = toArrays(test);
        INDArray predicted = net.output(t[0], false).argMax(1);
        return predicted.eq(t[1].argMax(1)).castTo(DataType.INT).sumNumber().doubleValue() / test.count();
    }

    static double mllib(FashionMnist.Split train, FashionMnist.Split test, int iterations, List<Double> seconds) {
        SparkSession spark = SparkSession.builder().master(System.getProperty("spark.master", "local[2]"))
                .appName("bench").config("spark.ui.enabled", "false").getOrCreate();
        Dataset<Row> tr = MnistFrames.of(spark, train, 2, 42L).cache();
        Dataset<Row> te = MnistFrames.of(spark, test, 2, null).cache();
        tr.count();
        te.count();
        MultilayerPerceptronClassifier mlp = new MultilayerPerceptronClassifier()
                .setLayers(new int[]{784, 256, 256, 10}).setBlockSize(128).setSeed(42L).setMaxIter(iterations)
                .setTol(0.0);
        long t0 = System.nanoTime();
        MultilayerPerceptronClassificationModel model = mlp.fit(tr);
        double s = (System.nanoTime() - t0) / 1e9;
        int done = model.summary().totalIterations();
        for (int i = 0; i < done; i++) {
            seconds.add(s / done); // L-BFGS: each iteration is one full pass (forward + backward) over the data
        }
        System.out.printf(Locale.ROOT, "mllib: %d L-BFGS iterations in %.1f s%n", done, s);
        return new MulticlassClassificationEvaluator().setMetricName("accuracy").evaluate(model.transform(te));
    }

    static INDArray[] toArrays(FashionMnist.Split s) {
        int n = s.count();
        float[] x = new float[n * 784];
        float[] y = new float[n * 10];
        for (int i = 0; i < x.length; i++) {
            x[i] = (s.pixels()[i] & 0xff) / 255f;
        }
        for (int i = 0; i < n; i++) {
            y[i * 10 + s.labels()[i]] = 1f;
        }
        return new INDArray[]{Nd4j.create(x, new long[]{n, 784}, 'c'), Nd4j.create(y, new long[]{n, 10}, 'c')};
    }

    static long peakRssMb() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("\\D+", "")) / 1024;
            }
        }
        return -1;
    }
}
