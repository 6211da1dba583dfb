package io.github.sparkdropout.cli;

import io.github.sparkdropout.config.TrainConfig;
import org.apache.spark.sql.SparkSession;

/** Lets bench code resolve "auto" settings exactly as {@code train} does. */
public final class BenchAccess {
    private BenchAccess() {
    }

    public static TrainConfig resolve(SparkSession spark, TrainConfig parsed) {
        return TrainCommand.resolveSync(spark, TrainCommand.resolve(spark, parsed, "bench"));
    }
}
