package io.github.sparkdropout.ml;

import io.github.sparkdropout.TestSpark;
import io.github.sparkdropout.UserProgram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The README's "Use from your Spark code" examples, exactly as written there, run as a user runs them: a program in
 * a JVM of its own (plain {@code java}, the master from {@code -Dspark.master}), on libsvm files: a real
 * Fashion-MNIST subset, and a table of 30 columns and 2 classes in a Pipeline with StandardScaler. Each must also
 * end: with no thread of ours or of the stages we start keeping its JVM alive, it exits once {@code main} returns.
 * ({@code UserProgramIT} starts the Fashion-MNIST one with spark-submit.)
 */
class ReadmeExampleTest {
    @TempDir
    Path dir;

    @Test
    void theFashionMnistExampleRunsAsWrittenAndExits() throws Exception {
        String classpath = classpath();
        Path classes = dir.resolve("classes");
        UserProgram.compileReadmeExample(dir, classes, classpath, "FitFashionMnist");
        String[] data = UserProgram.writeInputs(TestSpark.get(), dir);
        UserProgram.Ended run = UserProgram.runToExit(java(classes, classpath, "FitFashionMnist", data[0], data[1],
                dir.resolve("model").toString()), Map.of("SPARK_LOCAL_IP", "127.0.0.1"));
        // 10 epochs on 2,048 examples reach 0.698-0.706 under the kernel sets measured (Prescott, Haswell, SkylakeX:
        // their roundings part the runs); chance is 0.1, so 0.6 says it trained, whatever the CPU
        UserProgram.requireItsResults(run, dir.resolve("model"), 0.6);
    }

    @Test
    void theTableExampleRunsAsWrittenAndExits() throws Exception {
        String classpath = classpath();
        Path classes = dir.resolve("classes");
        UserProgram.compileReadmeExample(dir, classes, classpath, "FitTable");
        String table = UserProgram.writeTable(TestSpark.get(), dir);
        UserProgram.Ended run = UserProgram.runToExit(java(classes, classpath, "FitTable", table,
                dir.resolve("pipeline").toString()), Map.of("SPARK_LOCAL_IP", "127.0.0.1"));
        UserProgram.requireItsResults(run, dir.resolve("pipeline"), 0.85); // a linear rule; chance is 0.5
    }

    private static String classpath() {
        return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    }

    private static List<String> java(Path classes, String classpath, String main, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString()));
        String opens = Files.readString(Path.of("conf/java17-opens.properties")).lines()
                .filter(l -> l.startsWith("jvm.opens=")).findFirst().orElseThrow().substring("jvm.opens=".length());
        cmd.addAll(List.of(opens.split(" ")));
        cmd.addAll(List.of("-Dspark.master=local[2]", "-Dspark.ui.enabled=false",
                "-Dlog4j2.configurationFile=" + Path.of("conf/log4j2.properties").toAbsolutePath(),
                "-cp", classes + File.pathSeparator + classpath, main));
        cmd.addAll(List.of(args));
        return cmd;
    }
}
