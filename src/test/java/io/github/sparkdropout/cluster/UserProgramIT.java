package io.github.sparkdropout.cluster;

import io.github.sparkdropout.UserProgram;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * The README's example as a user's application submitted with {@code spark-submit --master local[2]} (the Spark
 * installation the cluster tests use, with the application jar for DL4J and the library): it trains, scores and
 * saves, and the driver's JVM ends by itself once {@code main} returns (spark-submit calls no System.exit then).
 */
@Tag("cluster")
class UserProgramIT {
    @TempDir
    Path dir;

    @Test
    void aUsersProgramSubmittedInLocalModeExits() throws Exception {
        Path classes = dir.resolve("classes");
        UserProgram.compileReadmeExample(dir, classes, System.getProperty("java.class.path"), "FitFashionMnist");
        Path userJar = jar(classes, dir.resolve("fit-fashion-mnist.jar"));
        String[] data;
        SparkSession spark = SparkSession.builder().master("local[1]").appName("inputs")
                .config("spark.ui.enabled", "false").getOrCreate();
        try {
            data = UserProgram.writeInputs(spark, dir);
        } finally {
            spark.stop();
        }
        List<String> cmd = List.of(SparkHome.path().resolve("bin/spark-submit").toString(), "--master", "local[2]",
                "--conf", "spark.ui.enabled=false", "--jars", AppJarIT.appJar().toAbsolutePath().toString(),
                "--class", "FitFashionMnist", userJar.toString(), data[0], data[1], dir.resolve("model").toString());
        UserProgram.Ended run = UserProgram.runToExit(cmd, Map.of("SPARK_LOCAL_IP", "127.0.0.1"));
        UserProgram.requireItsResults(run, dir.resolve("model"), 0.6); // as ReadmeExampleTest: it trained, any CPU
    }

    private static Path jar(Path classes, Path jar) throws IOException {
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
             Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                try (var in = Files.newInputStream(f)) {
                    in.transferTo(out);
                }
                out.closeEntry();
            }
        }
        return jar;
    }
}
