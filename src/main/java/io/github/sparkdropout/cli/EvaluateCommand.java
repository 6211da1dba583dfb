package io.github.sparkdropout.cli;

import io.github.sparkdropout.config.UsageException;
import io.github.sparkdropout.config.Setting;
import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.data.FashionMnist;
import io.github.sparkdropout.job.EvaluateJob;
import org.apache.spark.sql.SparkSession;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * {@code evaluate --run-id ID [--epoch N] [--metrics DIR] [--data DIR] [--test-limit N]}: a saved run's network
 * (after its last epoch, or epoch N) evaluated on the test set through Spark; by default on the data the run used.
 */
final class EvaluateCommand {
    private EvaluateCommand() {
    }

    static int run(String[] argv) {
        Args args = Args.parse(argv, Set.of(), Set.of());
        String runId = required(args, TrainConfig.RUN_ID);
        Integer epoch = args.options.containsKey("epoch")
                ? Setting.intSetting("epoch", "", 1).parse(args.options.remove("epoch")) : null;
        String metrics = args.options.getOrDefault("metrics", TrainConfig.defaults().get(TrainConfig.METRICS.name()));
        args.options.remove("metrics");
        Map<String, String> overrides = new HashMap<>();
        for (Setting<?> p : new Setting<?>[]{TrainConfig.DATA, TrainConfig.TEST_LIMIT}) {
            String v = args.options.remove(p.name());
            if (v != null) {
                p.parse(v);
                overrides.put(p.name(), v);
            }
        }
        if (!args.options.isEmpty() || !args.positional.isEmpty()) {
            throw new UsageException("evaluate takes --run-id, --epoch, --metrics, --data and --test-limit");
        }
        SparkSession spark = SparkSessions.get("dropout-mlp evaluate", true);
        try {
            EvaluateJob.Result r = new EvaluateJob(spark).run(metrics, runId, epoch, overrides);
            System.out.printf("run %s, epoch %d, data %s: test acc %.4f on %d examples%s%n", r.runId(), r.epoch(),
                    r.data(), r.eval().accuracy(), r.eval().examples(), !r.runsOwnData()
                            ? " (not the test files the run was evaluated on: nothing to compare)"
                            : Double.isNaN(r.recordedTestAcc()) ? " (no recorded row to compare)"
                            : String.format(" (recorded in training: %.4f%s)", r.recordedTestAcc(),
                            r.recordedTestAcc() == r.eval().accuracy() ? ", equal" : ", differs"));
            for (int c = 0; c < FashionMnist.CLASSES; c++) {
                System.out.printf("  %-12s precision %.3f  recall %.3f  f1 %.3f  support %d%n",
                        FashionMnist.CLASS_NAMES.get(c), r.eval().precision()[c], r.eval().recall()[c],
                        r.eval().f1()[c], r.eval().support()[c]);
            }
            return 0;
        } finally {
            spark.stop();
        }
    }

    /** The value of a required option, validated as {@code p} is. */
    static String required(Args args, Setting<?> p) {
        String v = args.options.remove(p.name());
        if (v == null || v.isEmpty()) {
            throw new UsageException("--" + p.name() + " is required");
        }
        p.parse(v);
        return v;
    }
}
