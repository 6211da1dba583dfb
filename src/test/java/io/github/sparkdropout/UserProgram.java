package io.github.sparkdropout;

import io.github.sparkdropout.data.FashionMnist;
import io.github.sparkdropout.data.MnistFrames;
import org.apache.spark.sql.SparkSession;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A user's program as users run it: the README's "Use from your Spark code" example, compiled against the project
 * and started as a JVM of its own, which must end by itself once its {@code main} returns.
 */
public final class UserProgram {
    private UserProgram() {
    }

    /** What the program printed, and how long after its last line it exited. */
    public record Ended(String output, long secondsAfterLastOutput) {
    }

    /** Compiles the README's example {@code className} (under "Use from your Spark code") into {@code classes}. */
    public static void compileReadmeExample(Path dir, Path classes, String classpath, String className)
            throws IOException {
        String readme = Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);
        String section = readme.substring(readme.indexOf("## Use from your Spark code"));
        section = section.substring(0, section.indexOf("\n## ", 1));
        Matcher m = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL).matcher(section);
        String example = null;
        while (m.find()) {
            if (m.group(1).contains("public class " + className + " ")) {
                example = m.group(1);
            }
        }
        assertTrue(example != null, "README has no Java example " + className + " under 'Use from your Spark code'");
        Path source = dir.resolve("src/" + className + ".java");
        Files.createDirectories(source.getParent());
        Files.writeString(source, example);
        Files.createDirectories(classes);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream errors = new ByteArrayOutputStream();
        int rc = javac.run(null, null, errors, "-classpath", classpath, "-d", classes.toString(), source.toString());
        assertEquals(0, rc, errors.toString());
    }

    /** The example's input: libsvm files of a real Fashion-MNIST subset; returns {train, test}. */
    public static String[] writeInputs(SparkSession spark, Path dir) {
        var hadoop = spark.sparkContext().hadoopConfiguration();
        String train = dir.resolve("train.libsvm").toString();
        String test = dir.resolve("test.libsvm").toString();
        MnistFrames.of(spark, FashionMnist.train(TestData.realData(), 2048, hadoop), 2, 1L).write().format("libsvm")
                .save(train);
        MnistFrames.of(spark, FashionMnist.test(TestData.realData(), 500, hadoop), 1, null).write().format("libsvm")
                .save(test);
        return new String[]{train, test};
    }

    /**
     * Runs {@code command} to its end: it must exit 0, and within 30 s of its last output; a program silent for a
     * minute while alive, or alive after five, fails with its threads (jcmd), whose names say what holds it.
     */
    public static Ended runToExit(List<String> command, Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().putAll(env);
        Process program = pb.start();
        StringBuilder printed = new StringBuilder();
        AtomicLong lastOutput = new AtomicLong(System.nanoTime());
        Thread reader = new Thread(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(program.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                    synchronized (printed) {
                        printed.append(line).append('\n');
                    }
                    lastOutput.set(System.nanoTime());
                }
            } catch (IOException ignored) {
                // the process is gone
            }
        });
        reader.setDaemon(true);
        reader.start();
        try {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while (!program.waitFor(1, TimeUnit.SECONDS)) {
                if (System.nanoTime() - lastOutput.get() > TimeUnit.SECONDS.toNanos(60)
                        || System.nanoTime() > deadline) {
                    fail("the user's program did not exit; its threads:\n" + threadDump(program.pid())
                            + "\noutput:\n" + printed);
                }
            }
            reader.join(10_000);
            long lingered = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - lastOutput.get());
            String output;
            synchronized (printed) {
                output = printed.toString();
            }
            assertEquals(0, program.exitValue(), output);
            assertTrue(lingered <= 30, "exited " + lingered + " s after its last output");
            return new Ended(output, lingered);
        } finally {
            program.destroyForcibly();
        }
    }

    /**
     * What a process that does not end is doing: it and each of its descendants (pid, command line), and the threads
     * of those that are JVMs (jcmd).
     */
    public static String whatIsStuck(Process process) {
        StringBuilder out = new StringBuilder("processes:\n");
        java.util.List<ProcessHandle> all = new java.util.ArrayList<>();
        all.add(process.toHandle());
        process.descendants().forEach(all::add);
        for (ProcessHandle p : all) {
            out.append(p.pid()).append(' ').append(p.info().commandLine().orElse("?")).append('\n');
        }
        for (ProcessHandle p : all) {
            if (p.info().command().orElse("").endsWith("/java")) {
                out.append("threads of ").append(p.pid()).append(":\n").append(threadDump(p.pid()));
            }
        }
        return out.toString();
    }

    private static String threadDump(long pid) {
        try {
            Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                    Long.toString(pid), "Thread.print").redirectErrorStream(true).start();
            String dump = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            jcmd.waitFor(30, TimeUnit.SECONDS);
            return dump;
        } catch (Exception e) {
            return "(no thread dump: " + e + ")";
        }
    }

    /**
     * The example's own report: its test accuracy above {@code floor}, its table of predictions, its saved model
     * (the network's zip in it, also inside a saved PipelineModel's stages).
     */
    public static void requireItsResults(Ended run, Path model, double floor) throws IOException {
        Matcher acc = Pattern.compile("test accuracy (\\d\\.\\d{4})").matcher(run.output());
        assertTrue(acc.find(), run.output());
        System.out.println("the user's program printed test accuracy " + acc.group(1) + " (floor " + floor + ")");
        assertTrue(Double.parseDouble(acc.group(1)) > floor, run.output());
        assertTrue(run.output().contains("|label|prediction|"), run.output());
        try (var files = Files.walk(model)) {
            assertTrue(files.anyMatch(f -> f.endsWith(Path.of("data", "network.zip"))), "no network.zip in " + model);
        }
    }

    /**
     * The table example's input: a libsvm file of 1,000 rows, 30 features on scales from 1 to 1,000 and 2 classes
     * that a linear rule of the standardised features separates (a stand-in for any user's table); returns its path.
     */
    public static String writeTable(SparkSession spark, Path dir) {
        java.util.SplittableRandom rng = new java.util.SplittableRandom(3);
        double[] w = new double[30];
        for (int j = 0; j < 30; j++) {
            w[j] = rng.nextDouble(-1, 1);
        }
        List<org.apache.spark.sql.Row> rows = new java.util.ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            double[] x = new double[30];
            double score = 0;
            for (int j = 0; j < 30; j++) {
                double z = rng.nextGaussian();
                score += w[j] * z;
                x[j] = z * Math.pow(10, j % 4) + 50 * j;
            }
            rows.add(org.apache.spark.sql.RowFactory.create(score > 0 ? 1.0 : 0.0,
                    org.apache.spark.ml.linalg.Vectors.dense(x)));
        }
        String path = dir.resolve("table.libsvm").toString();
        spark.createDataFrame(rows, new org.apache.spark.sql.types.StructType()
                        .add("label", org.apache.spark.sql.types.DataTypes.DoubleType, false)
                        .add("features", org.apache.spark.ml.linalg.SQLDataTypes.VectorType(), false))
                .coalesce(1).write().format("libsvm").save(path);
        return path;
    }
}
