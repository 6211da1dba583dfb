package io.github.sparkdropout.job;

import io.github.sparkdropout.RecordingOutput;
import io.github.sparkdropout.TestData;
import io.github.sparkdropout.TestSpark;
import io.github.sparkdropout.config.TrainConfig;
import org.apache.spark.SparkContext;
import org.apache.spark.status.api.v1.JobData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.collection.JavaConverters;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each epoch's Spark jobs say what they are in the UI and the history server (read back from the status store that
 * serves the UI's REST API), keep the job group their caller set, and leave the caller's description as it was.
 */
class EpochJobDescriptionTest {
    @TempDir
    Path dir;

    @Test
    void epochJobsAreDescribedWithinTheCallersJobGroup() {
        SparkContext sc = TestSpark.get().sparkContext();
        sc.setJobGroup("callers-group", "caller's work", false);
        try {
            new TrainJob(TestSpark.get(), new RecordingOutput()).run(TrainConfig.of(Map.of("data",
                    TestData.realData(), "metrics", dir.resolve("m").toString(), "train-limit", "1024",
                    "test-limit", "200", "epochs", "2", "run-id", "described", "workers", "2")));
            assertEquals("caller's work", sc.getLocalProperty("spark.job.description"), "put back as it was");
        } finally {
            sc.clearJobGroup();
        }
        List<JobData> jobs = JavaConverters.seqAsJavaList(sc.statusStore().jobsList(null));
        for (int epoch = 1; epoch <= 2; epoch++) {
            String want = "caller's work, sparkdropout run described: epoch " + epoch + " of 2, barrier averaging,"
                    + " attempt 1 of 1";
            List<JobData> described = jobs.stream().filter(j -> want.equals(j.description().getOrElse(() -> null)))
                    .toList();
            assertEquals(1, described.size(), "epoch " + epoch + "'s barrier stage: " + jobs.stream()
                    .map(j -> j.description().getOrElse(() -> j.name())).toList());
            assertEquals("callers-group", described.get(0).jobGroup().get());
        }
        assertTrue(jobs.stream().noneMatch(j -> j.name().startsWith("collect at BarrierTransport")
                && j.description().isEmpty()), "no epoch job is known by its call site alone");
    }
}
