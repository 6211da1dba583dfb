package io.github.sparkdropout.cli;

import io.github.sparkdropout.config.UsageException;
import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.metrics.CurvePlot;
import io.github.sparkdropout.metrics.MetricsTable;
import org.apache.spark.sql.SparkSession;

import java.util.List;
import java.util.Set;

/** {@code plot --run-id ID [--run-id ID2 ...] [--out curves.png] [--metrics DIR]}. */
final class PlotCommand {
    private PlotCommand() {
    }

    static int run(String[] argv) {
        Args args = Args.parse(argv, Set.of(), Set.of("run-id"));
        List<String> runs = args.repeated.get("run-id");
        if (runs == null || runs.isEmpty()) {
            throw new UsageException("plot needs at least one --run-id");
        }
        String out = args.options.getOrDefault("out", "curves.png");
        String location = args.options.getOrDefault("metrics", TrainConfig.defaults().get(TrainConfig.METRICS.name()));
        args.options.remove("out");
        args.options.remove("metrics");
        if (!args.options.isEmpty() || !args.positional.isEmpty()) {
            throw new UsageException("plot takes only --run-id, --out and --metrics");
        }
        SparkSession spark = SparkSessions.get("dropout-mlp plot");
        try {
            int series;
            try {
                series = CurvePlot.write(spark, new MetricsTable(spark, location), runs, out);
            } catch (java.io.UncheckedIOException e) {
                throw new UsageException("--out " + e.getMessage());
            }
            System.out.printf("plot: %s (%d series)%n", out, series);
            return 0;
        } finally {
            spark.stop();
        }
    }
}
