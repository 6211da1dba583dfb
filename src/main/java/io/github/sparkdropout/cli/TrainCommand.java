package io.github.sparkdropout.cli;

import io.github.sparkdropout.config.UsageException;
import io.github.sparkdropout.config.Setting;
import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.data.ReadAhead;
import io.github.sparkdropout.job.TrainJob;
import org.apache.spark.sql.SparkSession;

import java.util.Map;
import java.util.Set;

/** {@code train [options]}: the flags, checked before Spark starts, then the training job. */
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
            throw new UsageException("train takes no positional argument: '" + args.positional.get(0) + "'");
        }
        String resume = args.options.remove("resume");
        if (resume != null) {
            TrainJob.requireRunToResume(resume);
            TrainConfig.RUN_ID.parse(resume);
            if (args.options.containsKey(TrainConfig.RUN_ID.name())) {
                throw new UsageException("--resume names the run: leave out --run-id");
            }
            TrainConfig.of(args.options); // bad flags fail here, before Spark starts
            SparkSession spark = SparkSessions.get("dropout-mlp train --resume " + resume, true);
            try {
                new TrainJob(spark, new ProgressPrinter(System.out)).resume(resume, args.options);
                return 0;
            } finally {
                spark.stop();
            }
        }
        TrainConfig parsed = TrainConfig.of(args.options); // bad flags fail here, before Spark starts
        // local files are read (on another core) while Spark starts
        ReadAhead ahead = ReadAhead.start(parsed.data(), parsed.trainLimit(), parsed.testLimit());
        SparkSession spark = SparkSessions.get("dropout-mlp train", true);
        try {
            return train(spark, parsed, ahead);
        } finally {
            spark.stop();
        }
    }

    static int train(SparkSession spark, TrainConfig parsed, ReadAhead ahead) {
        new TrainJob(spark, new ProgressPrinter(System.out)).readingAhead(ahead).run(parsed);
        return 0;
    }

    static String help() {
        StringBuilder sb = new StringBuilder("usage: submit.sh [spark-submit options] train [options]\n"
                + "       submit.sh [spark-submit options] train --resume RUN_ID [--epochs N] [--metrics DIR]"
                + " [--data DIR] [--averaging-sync S]\n"
                + "Defaults from conf/train.properties. --resume continues a run from its last checkpoint with"
                + " its own settings.\n\n");
        Map<String, String> defaults = TrainConfig.defaults();
        for (Setting<?> p : TrainConfig.SETTINGS) {
            sb.append(String.format("  --%-20s %s%n  %-22s (%s; default: %s)%n", p.name(), p.description(), "",
                    p.rule(), defaults.get(p.name()).isEmpty() ? "none" : defaults.get(p.name())));
        }
        return sb.toString();
    }
}
