package io.github.sparkdropout.cluster;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The application jar spark-submit ships to a cluster carries the job and DL4J/ND4J, and nothing a Spark
 * installation already has: no class of Spark, Scala, Hadoop, Jackson or any other jar in a Spark home's jars/.
 * A second copy of a class the cluster provides either shadows the cluster's or is shadowed by it.
 */
@Tag("cluster")
class AppJarIT {
    static Path appJar() throws IOException {
        try (Stream<Path> jars = Files.list(Path.of("target"))) {
            return jars.filter(p -> p.getFileName().toString().endsWith("-app.jar")).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no target/*-app.jar: run mvn package"));
        }
    }

    private static Set<String> classes(Path jar) throws IOException {
        try (JarFile j = new JarFile(jar.toFile())) {
            return j.stream().map(e -> e.getName()).filter(n -> n.endsWith(".class")).collect(Collectors.toSet());
        }
    }

    @Test
    void holdsNoClassThatTheSparkInstallationProvides() throws IOException {
        Set<String> app = classes(appJar());
        Map<String, List<String>> clashes = new HashMap<>();
        try (Stream<Path> jars = Files.list(SparkHome.path().resolve("jars"))) {
            for (Path jar : jars.toList()) {
                for (String c : classes(jar)) {
                    if (app.contains(c)) {
                        clashes.computeIfAbsent(jar.getFileName().toString(), k -> new ArrayList<>()).add(c);
                    }
                }
            }
        }
        assertEquals(Map.of(), clashes.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey,
                e -> e.getValue().size() + " classes, e.g. " + new TreeSet<>(e.getValue()).first())));
    }

    /** The jar {@code mvn install} installs for other applications: this project's classes and defaults only. */
    @Test
    void theLibraryJarHoldsTheEstimatorAndOnlyThisProjectsClasses() throws IOException {
        Path library;
        try (Stream<Path> jars = Files.list(Path.of("target"))) {
            library = jars.filter(p -> p.getFileName().toString().matches("spark-dropout-mlp-[0-9.]+(-SNAPSHOT)?\\.jar"))
                    .findFirst().orElseThrow(() -> new IllegalStateException("no library jar in target/"));
        }
        Set<String> classes = classes(library);
        assertTrue(classes.contains("io/github/sparkdropout/ml/DropoutMlpClassifier.class"), library.toString());
        assertTrue(classes.contains("io/github/sparkdropout/ml/DropoutMlpModel.class"), library.toString());
        assertEquals(List.of(), classes.stream().filter(c -> !c.startsWith("io/github/sparkdropout/")).toList());
        try (JarFile j = new JarFile(library.toFile())) {
            assertNotNull(j.getEntry("train.properties"), "the settings' defaults travel with the library");
        }
        System.out.printf("library jar: %s, %.2f MB%n", library.getFileName(), Files.size(library) / 1e6);
    }

    @Test
    void carriesTheJobAndTheNd4jBackendOfItsBuildForLinuxX8664() throws IOException {
        try (JarFile j = new JarFile(appJar().toFile())) {
            assertNotNull(j.getEntry("io/github/sparkdropout/cli/Main.class"));
            boolean cuda = io.github.sparkdropout.model.Nd4jBackends.cudaBuild();
            assertNotNull(j.getEntry(cuda ? "org/nd4j/linalg/jcublas/bindings/linux-x86_64/libnd4jcuda.so"
                    : "org/nd4j/linalg/cpu/nativecpu/bindings/linux-x86_64/libnd4jcpu.so"));
            if (!cuda) {
                assertNotNull(j.getEntry("org/bytedeco/openblas/linux-x86_64/libopenblas.so.0"));
            }
            assertTrue(new String(j.getInputStream(j.getEntry("META-INF/services/org.nd4j.linalg.factory.Nd4jBackend"))
                    .readAllBytes()).contains(cuda ? "JCublasBackend" : "CpuBackend"),
                    "ND4J finds its backend through the merged service file");
            assertEquals("io.github.sparkdropout.cli.Main", j.getManifest().getMainAttributes().getValue("Main-Class"));
        }
        System.out.printf("application jar: %s, %.1f MB%n", appJar().getFileName(), Files.size(appJar()) / 1e6);
    }
}
