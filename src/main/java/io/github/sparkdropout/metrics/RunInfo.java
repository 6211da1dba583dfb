package io.github.sparkdropout.metrics;

import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.data.DataProvenance;

import java.io.Serializable;
import java.sql.Timestamp;

/**
 * The provenance of a run, repeated on every epoch row so each row stands alone: what configuration, what data
 * (location and checksums), what code (project version, git commit), on what Spark, and where its final model is.
 */
public record RunInfo(String runId, Timestamp startedAt, TrainConfig config, String master, int executorCount,
                      String appId, String sparkVersion, String projectVersion, String gitCommit,
                      DataProvenance train, DataProvenance test, String modelPath) implements Serializable {
}
