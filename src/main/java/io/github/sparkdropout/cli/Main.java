package io.github.sparkdropout.cli;

import io.github.sparkdropout.config.UsageException;
import io.github.sparkdropout.data.DataException;
import io.github.sparkdropout.job.JobFailure;
import io.github.sparkdropout.model.HostBlas;
import io.github.sparkdropout.model.Nd4jBackends;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.Set;

/**
 * Entry point of {@code submit.sh} / {@code spark-submit}: {@code COMMAND [options]}. A bad setting or bad input
 * prints one line {@code error: ...} and exits 2; any other failure prints one line {@code error: <what failed>
 * (full trace in <log file>)} and exits 1, its trace in the log, not across the terminal. A command stopped by a
 * signal (Ctrl-C: SIGINT; SIGTERM) prints no error: a run's own line says what is kept (job.Interruption), and the
 * JVM exits with 128 + the signal's number (130, 143).
 *
 * <p>A success returns normally, and the JVM ends as a user's program does (a test holds every command to it). In
 * cluster deploy mode (the driver runs inside the cluster: YARN's application master, a standalone worker) a
 * failure throws: Spark counts any {@code System.exit} there, even exit 0, as an
 * early exit of the application, and YARN then reports it FAILED and reruns the whole driver.
 */
public final class Main {
    static final String USAGE = String.join("\n",
            "usage: submit.sh [spark-submit options] COMMAND [options]",
            "commands:",
            "  train          train the D2L 4.6 dropout MLP on Fashion-MNIST, one Parquet row per epoch (--help for options)",
            "  sql QUERY      run Spark SQL over the metrics tables (views: metrics, class_metrics)",
            "  plot           draw training curves of runs to a PNG",
            "  evaluate       evaluate a saved run's model on the test set (--run-id ID [--epoch N])",
            "  predict        score images with a saved run's model, to Parquet (--run-id ID --data D --out O)",
            "  dropout-demo   the seed's first listing: dropout of arange(16) at p = 0, 0.5, 1",
            "");

    private static final String STOPPED = "stopped: the JVM is shutting down";
    /** After a run's own hook (job.Interruption: its one line), before Spark's, which stops the SparkContext. */
    private static final int QUIET_PRIORITY = org.apache.hadoop.fs.FileSystem.SHUTDOWN_HOOK_PRIORITY + 35;

    private Main() {
    }

    public static void main(String[] argv) {
        // a driver submit.sh did not start (cluster deploy mode, plain java) chooses its BLAS kernels as submit.sh would
        HostBlas.KernelChoice.askForTheBest();
        boolean clusterDriver = "cluster".equals(System.getProperty("spark.submit.deployMode"));
        if (!clusterDriver) {
            org.apache.hadoop.util.ShutdownHookManager.get().addShutdownHook(Main::quiet, QUIET_PRIORITY);
        }
        Outcome outcome = execute(argv);
        if (outcome.code() == 0) {
            return; // the JVM ends by itself: nothing of ours (or of the stages we start) keeps it alive
        }
        if (!clusterDriver) {
            System.exit(outcome.code()); // the shell's exit code
        }
        throw new JobFailedException(outcome.error(), outcome.code()); // the application's status and diagnostics
    }

    /** How a command ended: its exit code and, when it failed, its one-line error. */
    record Outcome(int code, String error) {
    }

    /** Why the driver failed, for a cluster manager's diagnostics: the one-line error, no stack trace. */
    static final class JobFailedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        JobFailedException(String error, int code) {
            super("error: " + error + " (exit code " + code + ")", null, false, false);
        }
    }

    /** Runs a command and returns its exit code (tests call this instead of {@link #main}). */
    public static int run(String[] argv) {
        return execute(argv).code();
    }

    static Outcome execute(String[] argv) {
        if (argv.length == 0 || argv[0].equals("--help") || argv[0].equals("-h") || argv[0].equals("help")) {
            System.out.print(USAGE);
            return argv.length == 0 ? new Outcome(2, "no command given") : new Outcome(0, null);
        }
        String[] rest = Arrays.copyOfRange(argv, 1, argv.length);
        try {
            if (Set.of("train", "evaluate", "predict").contains(argv[0]) && !Arrays.asList(rest).contains("--help")) {
                // logging set up in this thread first, its Log4j context started: other threads asking for loggers
                // while it initialises get SLF4J's warning on the terminal, or a second context and Log4j's
                // "Could not register mbeans" there
                LoggerFactory.getLogger(Main.class);
                // while Spark starts (each job waits for it); a CUDA build without the NVIDIA driver stops here
                Nd4jBackends.startLoading();
            }
            switch (argv[0]) {
                case "train":
                    return new Outcome(TrainCommand.run(rest), null);
                case "sql":
                    return new Outcome(SqlCommand.run(rest), null);
                case "plot":
                    return new Outcome(PlotCommand.run(rest), null);
                case "evaluate":
                    return new Outcome(EvaluateCommand.run(rest), null);
                case "predict":
                    return new Outcome(PredictCommand.run(rest), null);
                case "dropout-demo":
                    return new Outcome(DropoutDemo.run(rest), null);
                default:
                    throw new UsageException("unknown command '" + argv[0] + "' (commands: train, sql, plot,"
                            + " evaluate, predict, dropout-demo)");
            }
        } catch (UsageException | DataException e) {
            if (stopping()) {
                return new Outcome(1, STOPPED);
            }
            System.err.println("error: " + e.getMessage());
            return new Outcome(2, e.getMessage());
        } catch (Exception | Error e) { // not the user's input (Spark's own are checked, undeclared): one line here
            if (stopping()) {
                return new Outcome(1, STOPPED);
            }
            DataException bad = badInputIn(e);
            if (bad != null) { // bad input found on an executor: it reaches the driver inside Spark's exception
                System.err.println("error: " + bad.getMessage());
                return new Outcome(2, bad.getMessage());
            }
            String summary = e instanceof JobFailure ? e.getMessage() : argv[0] + " failed: "
                    + JobFailure.rootMessage(e);
            System.err.println("error: " + summary + " (full trace in " + logTrace(summary, e) + ")");
            return new Outcome(1, summary);
        }
    }

    /**
     * At the JVM's exit the terminal gets nothing more: the command has said its last line, and what a stopping
     * Spark throws in the threads of a command stopped by a signal (rejected callbacks, lost endpoints) is no news.
     */
    private static void quiet() {
        System.out.flush();
        System.err.flush();
        System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
        System.setErr(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
    }

    /**
     * Whether the JVM is shutting down under the command (Ctrl-C, SIGTERM): what that breaks is no error of its own;
     * the run's shutdown hook says what is kept, and the JVM exits as it does for the signal (130, 143), whatever
     * code this thread passes to {@code System.exit}.
     */
    private static boolean stopping() {
        return org.apache.hadoop.util.ShutdownHookManager.get().isShutdownInProgress();
    }

    /** The {@link DataException} among {@code e}'s causes, if any. */
    private static DataException badInputIn(Throwable e) {
        for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
            if (t instanceof DataException d) {
                return d;
            }
        }
        return null;
    }

    /**
     * Writes {@code e}'s trace to the run's log file ({@code -Dsparkdropout.logFile}, set by submit.sh) and says
     * where it went; without one (a driver started by a cluster manager) the driver's own log has it.
     */
    private static String logTrace(String summary, Throwable e) {
        String file = System.getProperty("sparkdropout.logFile");
        if (file == null) {
            e.printStackTrace();
            return "the driver's log, above";
        }
        LoggerFactory.getLogger("io.github.sparkdropout.failure").error(summary, e);
        return file;
    }
}
