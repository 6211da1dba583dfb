package io.github.sparkdropout.ml;

import io.github.sparkdropout.TestData;
import io.github.sparkdropout.TestSpark;
import io.github.sparkdropout.data.FashionMnist;
import io.github.sparkdropout.data.MnistFrames;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The README's "Use from your Spark code" example, exactly as written there: compiled against the project's
 * classes and run as a user runs it, a program in a JVM of its own (plain {@code java}), on libsvm files of a real
 * Fashion-MNIST subset. It must also end: a user's program that returns from {@code main} exits, with no thread of
 * ours or of the stages we start keeping its JVM alive.
 */
class ReadmeExampleTest {
    @TempDir
    Path dir;

    @Test
    void theReadmesExampleCompilesAndRunsAsWritten() throws Exception {
        String readme = Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("## Use from your Spark code.*?```java\n(.*?)```", Pattern.DOTALL).matcher(readme);
        assertTrue(m.find(), "README has no Java example under 'Use from your Spark code'");
        Path source = dir.resolve("src/FitFashionMnist.java");
        Files.createDirectories(source.getParent());
        Files.writeString(source, m.group(1));
        Path classes = Files.createDirectories(dir.resolve("classes"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream errors = new ByteArrayOutputStream();
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        int rc = javac.run(null, null, errors, "-classpath", classpath, "-d", classes.toString(), source.toString());
        assertEquals(0, rc, errors.toString());

        SparkSession spark = TestSpark.get(); // writes the example's input
        var hadoop = spark.sparkContext().hadoopConfiguration();
        String train = dir.resolve("train.libsvm").toString();
        String test = dir.resolve("test.libsvm").toString();
        MnistFrames.of(spark, FashionMnist.train(TestData.realData(), 2048, hadoop), 2, 1L).write().format("libsvm")
                .save(train);
        MnistFrames.of(spark, FashionMnist.test(TestData.realData(), 500, hadoop), 1, null).write().format("libsvm")
                .save(test);

        // a user's program is a JVM of its own: plain java, master from -Dspark.master as spark-submit would set
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString()));
        String opens = Files.readString(Path.of("conf/java17-opens.properties")).lines()
                .filter(l -> l.startsWith("jvm.opens=")).findFirst().orElseThrow().substring("jvm.opens=".length());
        cmd.addAll(List.of(opens.split(" ")));
        cmd.addAll(List.of("-Dspark.master=local[2]", "-Dspark.ui.enabled=false",
                "-Dlog4j2.configurationFile=" + Path.of("conf/log4j2.properties").toAbsolutePath(),
                "-cp", classes + java.io.File.pathSeparator + classpath, "FitFashionMnist", train, test,
                dir.resolve("model").toString()));
        Process program = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        StringBuilder printed = new StringBuilder();
        AtomicLong lastOutput = new AtomicLong(System.nanoTime());
        Thread reader = new Thread(() -> {
            try (var lines = new java.io.BufferedReader(new java.io.InputStreamReader(program.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                    synchronized (printed) {
                        printed.append(line).append('\n');
                    }
                    lastOutput.set(System.nanoTime());
                }
            } catch (java.io.IOException ignored) {
                // the process is gone
            }
        });
        reader.setDaemon(true);
        reader.start();
        try {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            // silent for a minute and still alive: hung (the fit itself prints its progress to the log)
            while (!program.waitFor(1, TimeUnit.SECONDS)) {
                if (System.nanoTime() - lastOutput.get() > TimeUnit.SECONDS.toNanos(60)
                        || System.nanoTime() > deadline) {
                    String threads = threadDump(program.pid());
                    fail("the user's program did not exit; its threads:\n" + threads + "\noutput:\n" + printed);
                }
            }
            reader.join(10_000);
            long lingered = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - lastOutput.get());
            assertEquals(0, program.exitValue(), printed.toString());
            assertTrue(lingered <= 30, "exited " + lingered + " s after its last output");
        } finally {
            program.destroyForcibly();
        }
        String out = printed.toString();
        Matcher acc = Pattern.compile("test accuracy (\\d\\.\\d{4})").matcher(out);
        assertTrue(acc.find(), out);
        assertTrue(Double.parseDouble(acc.group(1)) > 0.7, out); // 10 epochs on 2,048 examples
        assertTrue(out.contains("|label|prediction|"), out);
        assertTrue(Files.exists(dir.resolve("model/data/network.zip")));
    }

    /** The program's threads, as jcmd prints them (for the failure message). */
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
}
