package io.github.sparkdropout.cli;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What {@code submit.sh} chooses for the user: which Spark line it builds for (the installation's, else
 * {@code SPARKDROPOUT_SPARK}, else the last build's), and the local JVM's collector. It runs the
 * real script from a copy of the project, with a Spark installation that is a directory of jar names and a
 * spark-submit that prints what it was given, and a {@code mvn} on the PATH that records its arguments and leaves
 * what the real build leaves (target/spark-line, the app jar): building both lines for real is what the cluster
 * tests of each build do.
 */
class SubmitChoicesTest {
    @TempDir
    Path dir;
    Path project;
    Path bin;
    Path mvnLog;

    @BeforeEach
    void copyTheProjectAndStandIns() throws IOException {
        project = dir.resolve("project");
        Files.createDirectories(project.resolve("src/main"));
        Files.copy(Path.of("submit.sh"), project.resolve("submit.sh"));
        Files.copy(Path.of("pom.xml"), project.resolve("pom.xml"));
        try (Stream<Path> conf = Files.list(Path.of("conf"))) {
            Files.createDirectories(project.resolve("conf"));
            for (Path f : conf.toList()) {
                Files.copy(f, project.resolve("conf").resolve(f.getFileName()));
            }
        }
        bin = Files.createDirectories(dir.resolve("bin"));
        mvnLog = dir.resolve("mvn.log");
        // the real build writes target/spark-line in its first phase and packs the app jar
        script(bin.resolve("mvn"), "echo \"$*\" >> " + mvnLog + "\nmkdir -p target\n"
                + "case \" $* \" in *' spark4 '*) echo '4.2.0 (Scala 2.13)' ;; *) echo '3.5.9 (Scala 2.12)' ;; esac"
                + " > target/spark-line\n"
                + "touch target/spark-dropout-mlp-$(sed -n 's|^  <version>\\(.*\\)</version>|\\1|p' pom.xml | head -1)"
                + "-app.jar target/classpath.txt\n");
        script(bin.resolve("java"), "echo \"java $*\"\n"); // the embedded path's JVM: what it would run
    }

    private static void script(Path p, String body) throws IOException {
        Files.writeString(p, "#!/usr/bin/env bash\n" + body);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** A Spark installation as far as submit.sh looks: its spark-core jar and a spark-submit. */
    private Path sparkHome(String name, String coreJar) throws IOException {
        Path home = dir.resolve(name);
        Files.createDirectories(home.resolve("jars"));
        if (coreJar != null) {
            Files.createFile(home.resolve("jars").resolve(coreJar));
        }
        Files.createDirectories(home.resolve("bin"));
        script(home.resolve("bin/spark-submit"), "if [ \"$1\" = --version ]; then echo 'version 3.4.4' >&2; exit 0; fi\n"
                + "echo \"spark-submit $*\"\n");
        return home;
    }

    record Run(int exit, String out, String err) {
        String both() {
            return "--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private Run submit(Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("./submit.sh"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(project.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().remove("SPARK_HOME");
        pb.environment().remove("SPARKDROPOUT_SPARK");
        pb.environment().remove("JAVA_HOME");
        pb.environment().put("PATH", bin + File.pathSeparator + "/usr/bin:/bin");
        pb.environment().putAll(env);
        Path out = dir.resolve("out.txt");
        Path err = dir.resolve("err.txt");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(1, TimeUnit.MINUTES), "submit.sh finished");
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    private List<String> mavenCalls() throws IOException {
        return Files.exists(mvnLog) ? Files.readAllLines(mvnLog) : List.of();
    }

    @Test
    void aSpark4InstallationGetsTheSpark4BuildAndItsAppJar() throws Exception {
        Path home = sparkHome("spark-4.1.1-bin-hadoop3", "spark-core_2.13-4.1.1.jar");
        Run r = submit(Map.of("SPARK_HOME", home.toString()), "--master", "spark://h:7077", "sql", "SELECT 1");
        assertEquals(0, r.exit(), r.both());
        assertEquals(List.of("-q -B -DskipTests -P spark4 package"), mavenCalls());
        assertTrue(r.err().contains("building (package -P spark4: Spark 4)"), r.err());
        assertTrue(r.out().matches("(?s)spark-submit --class io\\.github\\.sparkdropout\\.cli\\.Main .*"
                + "target/spark-dropout-mlp-[^ ]*-app\\.jar sql SELECT 1\n"), r.out());

        Run again = submit(Map.of("SPARK_HOME", home.toString()), "--master", "spark://h:7077", "sql", "SELECT 1");
        assertEquals(0, again.exit(), again.both());
        assertEquals(1, mavenCalls().size(), "built once: the jar is fresh and of this line");
    }

    @Test
    void switchingTheInstallationBetweenLinesRebuildsForTheOtherLine() throws Exception {
        Path spark4 = sparkHome("spark4", "spark-core_2.13-4.2.0.jar");
        Path spark35 = sparkHome("spark35", "spark-core_2.12-3.5.9.jar");
        assertEquals(0, submit(Map.of("SPARK_HOME", spark4.toString()), "sql", "SELECT 1").exit());
        Run r = submit(Map.of("SPARK_HOME", spark35.toString()), "sql", "SELECT 1");
        assertEquals(0, r.exit(), r.both());
        assertEquals(List.of("-q -B -DskipTests -P spark4 package", "-q -B -DskipTests package"), mavenCalls(),
                "a jar of the other line is not fresh, however new");
        assertEquals("3.5.9 (Scala 2.12)", Files.readString(project.resolve("target/spark-line")).strip());
    }

    @Test
    void withoutCoreJarsTheVersionComesFromSparkSubmitAndAnUnsupportedLineIsOneLine() throws Exception {
        Path old = sparkHome("spark-3.4", null); // its spark-submit --version says 3.4.4
        Run r = submit(Map.of("SPARK_HOME", old.toString()), "sql", "SELECT 1");
        assertEquals(2, r.exit(), r.both());
        assertEquals("submit.sh: Spark 3.4.4 at " + old + ": this job runs on Spark 3.5 and 4.x (README: Spark "
                + "versions)\n", r.err());
        assertEquals(List.of(), mavenCalls(), "nothing built");
    }

    @Test
    void embeddedTheVariableOrElseTheLastBuildChoosesTheLineAndNoVariableContradictsAnInstallation() throws Exception {
        Run embedded = submit(Map.of("SPARKDROPOUT_SPARK", "4"), "sql", "SELECT 1");
        assertEquals(0, embedded.exit(), embedded.both());
        assertEquals(List.of("-q -B -DskipTests -P spark4 compile"), mavenCalls(), embedded.both());
        assertTrue(embedded.out().matches("(?s)java .*-cp target/classes:.* io\\.github\\.sparkdropout\\.cli\\.Main "
                + "sql SELECT 1\n"), embedded.out());
        // unset, the line of the last build stays (a build made with mvn -P spark4 is used as it is)
        assertEquals(0, submit(Map.of(), "sql", "SELECT 1").exit());
        assertEquals(1, mavenCalls().size(), "nothing rebuilt");
        assertEquals(0, submit(Map.of("SPARKDROPOUT_SPARK", "3.5"), "sql", "SELECT 1").exit());
        assertEquals(List.of("-q -B -DskipTests -P spark4 compile", "-q -B -DskipTests compile"), mavenCalls());

        Path spark35 = sparkHome("spark35", "spark-core_2.12-3.5.9.jar");
        Run r = submit(Map.of("SPARK_HOME", spark35.toString(), "SPARKDROPOUT_SPARK", "4"), "sql", "SELECT 1");
        assertEquals(2, r.exit(), r.both());
        assertTrue(r.err().startsWith("submit.sh: SPARKDROPOUT_SPARK=4, but the Spark installation at " + spark35
                + " is 3.5.9"), r.err());
        assertEquals(1, r.err().lines().count(), r.err());

        Run bad = submit(Map.of("SPARKDROPOUT_SPARK", "3"), "sql", "SELECT 1");
        assertEquals(2, bad.exit());
        assertEquals("submit.sh: SPARKDROPOUT_SPARK=3: the Spark line is 3.5 or 4\n", bad.err());
        assertEquals(2, mavenCalls().size(), "nothing more built");
    }

    @Test
    void localModeGetsTheSerialCollectorUnlessTheUserChoseOne() throws Exception {
        Run r = submit(Map.of(), "sql", "SELECT 1");
        assertEquals(0, r.exit(), r.both());
        assertTrue(r.out().contains(" -XX:+UseSerialGC -XX:MaxNewSize=48m "), r.out());
        for (String[] own : new String[][]{{"--driver-java-options", "-XX:+UseParallelGC"},
                {"--conf", "spark.driver.extraJavaOptions=-XX:+UseG1GC"}}) {
            Run mine = submit(Map.of(), own[0], own[1], "sql", "SELECT 1");
            assertEquals(0, mine.exit(), mine.both());
            assertFalse(mine.out().contains("UseSerialGC"), "one collector, the user's: " + mine.out());
        }
        // an option that merely mentions GC is not a collector
        Run verbose = submit(Map.of(), "--driver-java-options", "-XX:+UseStringDeduplication -XX:+PrintGCDetails",
                "sql", "SELECT 1");
        assertTrue(verbose.out().contains(" -XX:+UseSerialGC -XX:MaxNewSize=48m "), verbose.out());
        Run typo = submit(Map.of("SPARKDROPOUT_GC", "g1"), "sql", "SELECT 1");
        assertEquals(2, typo.exit(), typo.both());
        assertEquals("submit.sh: SPARKDROPOUT_GC=g1: serial (the default) or jvm\n", typo.err());
        Run jvm = submit(Map.of("SPARKDROPOUT_GC", "jvm"), "sql", "SELECT 1");
        assertFalse(jvm.out().contains("-XX:+Use"), jvm.out());
        Run cluster = submit(Map.of(), "--master", "spark://h:7077", "sql", "SELECT 1");
        assertFalse(cluster.out().contains("UseSerialGC"), "executors are not this JVM: " + cluster.out());
    }

    /** The JVM options spark-submit was given for KEY (the stand-in prints its arguments, one per word). */
    private static String javaOptions(Run r, String key) {
        int at = r.out().indexOf(key + "=");
        assertTrue(at >= 0, key + " given: " + r.out());
        String rest = r.out().substring(at + key.length() + 1);
        int end = rest.indexOf(" --"); // the next spark-submit option, or the jar
        return end < 0 ? rest : rest.substring(0, end);
    }

    @Test
    void clusterJvmsOfAFewCoresGetTheC1JitAndTheUsersOwnOptionsComeLast() throws Exception {
        String c1 = "-XX:TieredStopAtLevel=1";
        Map<String, String> spark = Map.of("SPARK_HOME", sparkHome("spark35", "spark-core_2.12-3.5.9.jar").toString());
        // YARN (and Kubernetes) executors have 1 core unless told
        Run yarn = submit(spark, "--master", "yarn", "sql", "SELECT 1");
        assertEquals(0, yarn.exit(), yarn.both());
        assertTrue(javaOptions(yarn, "spark.executor.extraJavaOptions").startsWith(c1 + " "), yarn.out());
        Run big = submit(spark, "--master", "yarn", "--executor-cores", "8", "sql", "SELECT 1");
        assertFalse(javaOptions(big, "spark.executor.extraJavaOptions").contains("Tiered"), big.out());
        Run small = submit(spark, "--master", "spark://h:7077", "--conf", "spark.executor.cores=2", "sql", "SELECT 1");
        assertTrue(javaOptions(small, "spark.executor.extraJavaOptions").startsWith(c1 + " "), small.out());
        // a standalone executor without spark.executor.cores takes all of a worker's cores: unknown here
        Run whole = submit(spark, "--master", "spark://h:7077", "sql", "SELECT 1");
        assertFalse(javaOptions(whole, "spark.executor.extraJavaOptions").contains("Tiered"), whole.out());
        Run chosen = submit(with(spark, "SPARKDROPOUT_JIT", "c1"), "--master", "spark://h:7077", "sql", "SELECT 1");
        assertTrue(javaOptions(chosen, "spark.executor.extraJavaOptions").startsWith(c1 + " "), chosen.out());
        assertTrue(javaOptions(chosen, "spark.driver.extraJavaOptions").contains(c1), "the client's driver: "
                + chosen.out());
        Run full = submit(with(spark, "SPARKDROPOUT_JIT", "full"), "--master", "yarn", "sql", "SELECT 1");
        assertFalse(full.out().contains("Tiered"), full.out());
        // the user's own JIT options go after ours: the JVM takes the last
        Run own = submit(spark, "--master", "yarn", "--conf",
                "spark.executor.extraJavaOptions=-XX:TieredStopAtLevel=4", "sql", "SELECT 1");
        String ownOptions = javaOptions(own, "spark.executor.extraJavaOptions");
        assertTrue(ownOptions.startsWith(c1 + " ") && ownOptions.strip().endsWith(" -XX:TieredStopAtLevel=4"),
                ownOptions);
        // a cluster-mode driver runs on a cluster node with spark.driver.cores (1 unless told)
        Run cluster = submit(spark, "--master", "yarn", "--deploy-mode", "cluster", "sql", "SELECT 1");
        assertTrue(javaOptions(cluster, "spark.driver.extraJavaOptions").startsWith(c1), cluster.out());
        Run typo = submit(Map.of("SPARKDROPOUT_JIT", "C2"), "sql", "SELECT 1");
        assertEquals(2, typo.exit(), typo.both());
        assertEquals("submit.sh: SPARKDROPOUT_JIT=C2: auto (the default), c1 or full\n", typo.err());
    }

    private static Map<String, String> with(Map<String, String> env, String key, String value) {
        Map<String, String> more = new java.util.HashMap<>(env);
        more.put(key, value);
        return more;
    }

    @Test
    void aRunThatFindsAnotherPreparingClassDataSharingSaysSoAndGoesWithoutItAfterABoundedWait() throws Exception {
        assertEquals(0, submit(Map.of(), "sql", "SELECT 1").exit()); // built: target/ as the real build leaves it
        Files.createDirectories(project.resolve("target/classes"));
        Files.createDirectories(project.resolve("data/fashion-mnist"));
        Files.createFile(project.resolve("data/fashion-mnist/train-images-idx3-ubyte.gz"));
        // another submit.sh preparing the archive: it holds the lock
        Process holder = new ProcessBuilder("flock", "target/.cds.lock", "sleep", "60").directory(project.toFile())
                .start();
        try {
            Thread.sleep(500);
            long t0 = System.nanoTime();
            Run r = submit(Map.of("SPARKDROPOUT_CDS_WAIT", "2"), "train", "--epochs", "1");
            double waited = (System.nanoTime() - t0) / 1e9;
            assertEquals(0, r.exit(), r.both());
            assertEquals("submit.sh: waiting for another submit.sh to finish preparing class-data sharing"
                    + " (target/.cds.lock) ...\nsubmit.sh: class-data sharing still being prepared by another"
                    + " submit.sh; running without it\n", r.err());
            assertTrue(r.out().startsWith("java ") && !r.out().contains("SharedArchiveFile"), r.out());
            assertTrue(waited < 30, "bounded: " + waited + " s");
            Run typo = submit(Map.of("SPARKDROPOUT_CDS_WAIT", "2m"), "train", "--epochs", "1");
            assertEquals(2, typo.exit(), typo.both());
            assertEquals("submit.sh: SPARKDROPOUT_CDS_WAIT=2m: whole seconds\n", typo.err());
        } finally {
            holder.descendants().forEach(ProcessHandle::destroyForcibly);
            holder.destroyForcibly();
        }
    }
}
