package io.github.sparkdropout.cli;

import io.github.sparkdropout.config.UsageException;
import io.github.sparkdropout.config.Setting;
import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.fs.LiteralPaths;
import io.github.sparkdropout.job.PredictJob;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

import java.util.Set;

/**
 * {@code predict --run-id ID --data DIR_OR_PARQUET --out DIR [--epoch N] [--split test|train] [--limit N]
 * [--metrics DIR]}: scores images with a saved run's network and writes the predictions as Parquet.
 */
final class PredictCommand {
    private static final Setting<String> OUT = Setting.stringSetting("out", "where the predictions go", ".+",
            "a path or URI");
    private static final Setting<String> SPLIT = Setting.stringSetting("split", "which IDX files", "test|train",
            "test or train");

    private PredictCommand() {
    }

    /** A query over the predictions in {@code out}: Spark SQL's {@code parquet.`path`} takes a glob, so escaped. */
    static String query(String out) {
        return "SELECT class_name, count(*) AS n FROM parquet.`" + LiteralPaths.asGlob(new Path(out))
                + "` GROUP BY class_name ORDER BY n DESC";
    }

    static int run(String[] argv) {
        Args args = Args.parse(argv, Set.of(), Set.of());
        String runId = EvaluateCommand.required(args, TrainConfig.RUN_ID);
        String data = EvaluateCommand.required(args, TrainConfig.DATA);
        String out = EvaluateCommand.required(args, OUT);
        Integer epoch = args.options.containsKey("epoch")
                ? Setting.intSetting("epoch", "", 1).parse(args.options.remove("epoch")) : null;
        String split = SPLIT.parse(args.options.getOrDefault("split", "test"));
        int limit = Setting.intSetting("limit", "", 0).parse(args.options.getOrDefault("limit", "0"));
        String metrics = args.options.getOrDefault("metrics", TrainConfig.defaults().get(TrainConfig.METRICS.name()));
        args.options.keySet().removeAll(Set.of("split", "limit", "metrics"));
        if (!args.options.isEmpty() || !args.positional.isEmpty()) {
            throw new UsageException("predict takes --run-id, --data, --out, --epoch, --split, --limit and --metrics");
        }
        SparkSession spark = SparkSessions.get("dropout-mlp predict", true);
        try {
            PredictJob.Result r = new PredictJob(spark).run(metrics, runId, epoch, data, split, limit, out);
            System.out.printf("predictions: %s (%d rows from run %s, epoch %d%s)%n", r.out(), r.rows(), r.runId(),
                    r.epoch(), r.labelled() == 0 ? "" : String.format("; %d labelled, accuracy %.4f", r.labelled(),
                            (double) r.correct() / r.labelled()));
            System.out.printf("query: ./submit.sh sql \"%s\"%n", query(r.out()));
            return 0;
        } finally {
            spark.stop();
        }
    }
}
