package io.github.sparkdropout.model;

import io.github.sparkdropout.concurrent.DaemonTask;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Which ND4J backend this build carries (native CPU by default, CUDA with {@code mvn -P cuda}), and a check, at the
 * start of a command, that it can run here: a CUDA build on a machine without a usable GPU fails with one line
 * saying so, not with ND4J's "no backend" trace halfway through.
 */
public final class Nd4jBackends {
    private static final String CUDA_BACKEND = "org.nd4j.linalg.jcublas.JCublasBackend";

    private Nd4jBackends() {
    }

    /** True if this build is the CUDA one. */
    public static boolean cudaBuild() {
        try {
            Class.forName(CUDA_BACKEND, false, Nd4jBackends.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    private static DaemonTask<String> loading; // the backend being loaded on a daemon thread, if started

    /**
     * Starts loading ND4J's backend on a daemon thread: loading its native libraries takes long enough to be worth
     * overlapping with Spark's own start-up; {@link #requireUsable} then waits for it. A CUDA build on a machine
     * without the NVIDIA driver is refused at once, in the calling thread.
     */
    public static synchronized void startLoading() {
        requireDriverIfCuda();
        if (loading == null) {
            loading = DaemonTask.start("sparkdropout-nd4j-load", Nd4jBackends::load);
        }
    }

    /**
     * Loads ND4J's backend (or waits for {@link #startLoading}'s) and names it; if it cannot run here, a one-line
     * {@link IllegalStateException}.
     */
    public static String requireUsable() {
        DaemonTask<String> pending;
        synchronized (Nd4jBackends.class) {
            pending = loading;
        }
        return pending == null ? load() : pending.join("loading ND4J's backend");
    }

    // without the NVIDIA driver's device nodes there is no GPU to use: say so before ND4J prints its own trace
    private static void requireDriverIfCuda() {
        if (cudaBuild() && !Files.exists(Path.of("/dev/nvidiactl"))) {
            throw new IllegalStateException(noGpu("no NVIDIA driver: /dev/nvidiactl is missing"), null);
        }
    }

    private static String load() {
        requireDriverIfCuda();
        try {
            return Nd4j.getBackend().getClass().getSimpleName();
        } catch (RuntimeException | LinkageError e) { // no backend found, native libraries that do not load
            String why = e.getClass().getSimpleName();
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t.getMessage() != null && !t.getMessage().isBlank()) {
                    why = t.getMessage().strip().lines().findFirst().orElse(why);
                    break;
                }
            }
            throw new IllegalStateException(cudaBuild() ? noGpu(why)
                    : "ND4J's native CPU backend cannot start on this machine (" + why + ")", e);
        }
    }

    private static String noGpu(String why) {
        return "this build runs ND4J's CUDA backend (mvn -P cuda), and no CUDA device is usable on this machine ("
                + why + "): build without -P cuda to train on CPUs";
    }
}
