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
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's "Use from your Spark code" example, exactly as written there: compiled against the project's
 * classes and run on libsvm files of a real Fashion-MNIST subset, in the tests' Spark session.
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

        SparkSession spark = TestSpark.get(); // the example's getOrCreate() finds it
        var hadoop = spark.sparkContext().hadoopConfiguration();
        String train = dir.resolve("train.libsvm").toString();
        String test = dir.resolve("test.libsvm").toString();
        MnistFrames.of(spark, FashionMnist.train(TestData.realData(), 2048, hadoop), 2, 1L).write().format("libsvm")
                .save(train);
        MnistFrames.of(spark, FashionMnist.test(TestData.realData(), 500, hadoop), 1, null).write().format("libsvm")
                .save(test);

        PrintStream stdout = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        try (URLClassLoader loader = new URLClassLoader(new URL[]{classes.toUri().toURL()},
                getClass().getClassLoader())) {
            System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
            loader.loadClass("FitFashionMnist").getMethod("main", String[].class)
                    .invoke(null, (Object) new String[]{train, test, dir.resolve("model").toString()});
        } finally {
            System.setOut(stdout);
        }
        String out = printed.toString(StandardCharsets.UTF_8);
        Matcher acc = Pattern.compile("test accuracy (\\d\\.\\d{4})").matcher(out);
        assertTrue(acc.find(), out);
        assertTrue(Double.parseDouble(acc.group(1)) > 0.7, out); // 10 epochs on 2,048 examples
        assertTrue(out.contains("|label|prediction|"), out);
        assertTrue(Files.exists(dir.resolve("model/data/network.zip")));
    }
}
