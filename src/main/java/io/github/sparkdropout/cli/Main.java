package io.github.sparkdropout.cli;

import io.github.sparkdropout.config.ConfigException;

import java.util.Arrays;

/**
 * Entry point of {@code submit.sh} / {@code spark-submit}: {@code COMMAND [options]}. A bad setting or bad input
 * prints one line {@code error: ...} and exits 2; an unexpected failure exits 1.
 */
public final class Main {
    static final String USAGE = String.join("\n",
            "usage: submit.sh [spark-submit options] COMMAND [options]",
            "commands:",
            "  train          train the D2L 4.6 dropout MLP on Fashion-MNIST, one Parquet row per epoch (--help for options)",
            "  sql QUERY      run Spark SQL over the metrics tables (views: metrics, class_metrics)",
            "  plot           draw training curves of runs to a PNG",
            "  dropout-demo   the seed's first listing: dropout of arange(16) at p = 0, 0.5, 1",
            "");

    private Main() {
    }

    public static void main(String[] argv) {
        System.exit(run(argv));
    }

    /** Runs a command and returns its exit code (tests call this instead of {@link #main}). */
    public static int run(String[] argv) {
        if (argv.length == 0 || argv[0].equals("--help") || argv[0].equals("-h") || argv[0].equals("help")) {
            System.out.print(USAGE);
            return argv.length == 0 ? 2 : 0;
        }
        String[] rest = Arrays.copyOfRange(argv, 1, argv.length);
        try {
            switch (argv[0]) {
                case "train":
                    return TrainCommand.run(rest);
                case "sql":
                    return SqlCommand.run(rest);
                case "plot":
                    return PlotCommand.run(rest);
                case "dropout-demo":
                    return DropoutDemo.run(rest);
                default:
                    throw new ConfigException("unknown command '" + argv[0] + "' (commands: train, sql, plot,"
                            + " dropout-demo)");
            }
        } catch (ConfigException e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        }
    }
}
