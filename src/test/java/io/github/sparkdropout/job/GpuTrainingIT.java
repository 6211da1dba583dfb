package io.github.sparkdropout.job;

import io.github.sparkdropout.TestData;
import io.github.sparkdropout.model.Nd4jBackends;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CUDA build (mvn -P cuda verify) on a machine with an NVIDIA GPU: the job trains on the GPU backend. Skipped
 * elsewhere: in the default CPU build, and wherever no GPU device is present.
 */
@Tag("gpu")
@EnabledIf("cudaBuildWithADevice")
class GpuTrainingIT {
    @TempDir
    Path dir;

    static boolean cudaBuildWithADevice() {
        return Nd4jBackends.cudaBuild() && Files.exists(Path.of("/dev/nvidia0"));
    }

    @Test
    void trainsAnEpochOnTheGpuBackend() {
        assertEquals("JCublasBackend", Nd4jBackends.requireUsable());
        SparkSession spark = SparkSession.builder().master("local[1]").appName("gpu").config("spark.ui.enabled", "false")
                .getOrCreate();
        try {
            io.github.sparkdropout.RecordingOutput out = new io.github.sparkdropout.RecordingOutput();
            new TrainJob(spark, out).run(io.github.sparkdropout.config.TrainConfig.of(Map.of("data",
                    TestData.realData(), "metrics", dir.resolve("metrics").toString(), "train-limit", "4096",
                    "test-limit", "1000", "epochs", "2", "workers", "1", "run-id", "gpu")));
            assertEquals(2, out.epochs.size());
            assertTrue(out.epochs.get(1).testAcc() > 0.3, "learns on the GPU: " + out.printed());
            assertTrue(Nd4j.getBackend().getClass().getSimpleName().contains("Cublas"));
        } finally {
            spark.stop();
        }
    }
}
