package io.github.sparkdropout.cluster;

import java.nio.file.Files;
import java.nio.file.Path;

/** The Spark installation the cluster tests submit through: target/spark-home, assembled by bench/spark-home.sh. */
final class SparkHome {
    private SparkHome() {
    }

    static Path path() {
        Path home = Path.of("target/spark-home").toAbsolutePath();
        if (!Files.isExecutable(home.resolve("bin/spark-submit"))) {
            throw new IllegalStateException(home + " is missing: run bench/spark-home.sh (mvn verify does)");
        }
        return home;
    }
}
