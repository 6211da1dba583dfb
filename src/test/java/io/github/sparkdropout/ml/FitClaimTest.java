package io.github.sparkdropout.ml;

import io.github.sparkdropout.TestData;
import io.github.sparkdropout.TestSpark;
import io.github.sparkdropout.job.RunClaim;
import io.github.sparkdropout.config.UsageException;
import io.github.sparkdropout.data.FashionMnist;
import io.github.sparkdropout.data.MnistFrames;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A fit that records claims its run as {@code train} does: refused while another driver holds it, released after. */
class FitClaimTest {
    @TempDir
    Path dir;

    @Test
    void aRecordingFitClaimsItsRunAndReleasesIt() throws Exception {
        SparkSession spark = TestSpark.get();
        Dataset<Row> frame = MnistFrames.of(spark, FashionMnist.train(TestData.realData(), 512,
                spark.sparkContext().hadoopConfiguration()), 2, 7L);
        String metrics = dir.resolve("metrics").toString();
        RunClaim.Holder other = new RunClaim.Holder("application_9_0001", "1", "elsewhere.example", 4242, 1L,
                System.currentTimeMillis());
        try (RunClaim held = RunClaim.take(spark.sparkContext().hadoopConfiguration(), metrics, "fitted", other)) {
            UsageException refused = assertThrows(UsageException.class, () -> new DropoutMlpClassifier().setEpochs(1)
                    .setWorkers(2).setMetrics(metrics).setRunId("fitted").fit(frame));
            assertTrue(refused.getMessage().startsWith("run 'fitted' is in use by application application_9_0001"
                    + " (attempt 1) on host elsewhere.example (pid 4242)"), refused.getMessage());
            assertFalse(Files.exists(Path.of(metrics, "epochs")), "nothing of the run written");
        }
        new DropoutMlpClassifier().setEpochs(1).setWorkers(2).setMetrics(metrics).setRunId("fitted").fit(frame);
        try (Stream<Path> claims = Files.list(Path.of(metrics, "claims/fitted"))) {
            assertEquals(List.of("0000000002.released"), claims.map(p -> p.getFileName().toString()).toList(),
                    "the fit's claim, released");
        }
    }
}
