package io.github.sparkdropout.model;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * This project's own classes are compiled by the JIT's C1 compiler only, in whatever JVM they run (a user's program
 * with the Estimator, spark-submit's driver, an executor): one compiler directive, {@code c2: Exclude} for
 * {@code io/github/sparkdropout/*.*}, added through HotSpot's DiagnosticCommand MBean (as {@code jcmd
 * Compiler.directives_add} does) when a JVM starts a training or builds its first model replica (training, evaluation,
 * prediction, the Estimator's model, the executors' warm-up). Nothing else's compilation changes.
 *
 * <p>Why: our hot work is native (GEMMs, element-wise loops over native memory); C2 compiling our step code takes
 * the cores from the training in the first epochs, and its code is no faster afterwards. Measured on Fashion-MNIST
 * with the Estimator in a JVM with the full JIT (bench/vs-mllib.sh, ours alone, two runs each): fit 7.42, 7.91 s
 * without, 7.07, 6.92 s with the directive; epoch 1 1.06-1.10 s against 0.73-0.80 s; steady epochs alike.
 * {@code -Dsparkdropout.jit=full} (which {@code SPARKDROPOUT_JIT=full ./submit.sh} gives every JVM) leaves the JIT as it
 * is; a JVM without the MBean (not HotSpot) is left as it is.
 */
public final class JitChoice {
    private static final Logger LOG = LoggerFactory.getLogger(JitChoice.class);
    /** The system property that turns the directive off ({@code full}). */
    public static final String PROPERTY = "sparkdropout.jit";
    static final String PATTERN = "io/github/sparkdropout/*.*";
    private static final AtomicBoolean DONE = new AtomicBoolean();

    private JitChoice() {
    }

    /** Once per JVM: our classes on C1 only, unless {@code -Dsparkdropout.jit=full}. */
    public static void ourCodeOnC1() {
        if (!"full".equals(System.getProperty(PROPERTY)) && DONE.compareAndSet(false, true)) {
            add();
        }
    }

    /** Adds the directive; false if this JVM has no way to (logged, never thrown). */
    static boolean add() {
        Path file = null;
        try {
            file = Files.createTempFile("sparkdropout-jit", ".json");
            Files.writeString(file, "[{ match: [\"" + PATTERN + "\"], c2: { Exclude: true } }]");
            Object said = ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerDirectivesAdd",
                    new Object[]{new String[]{file.toString()}}, new String[]{String[].class.getName()});
            LOG.debug("compiler directive for our classes: {}", said);
            return true;
        } catch (Exception | LinkageError e) { // not HotSpot, no management: the JIT stays as it is
            LOG.debug("no compiler directive for our classes ({})", e.toString());
            return false;
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (java.io.IOException ignored) {
                    // a temporary file of a few bytes
                }
            }
        }
    }

    /** What HotSpot says its compiler directives are (tests). */
    static String directives() throws Exception {
        return String.valueOf(ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerDirectivesPrint",
                new Object[]{new String[0]}, new String[]{String[].class.getName()}));
    }
}
