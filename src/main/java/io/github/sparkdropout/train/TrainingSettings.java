package io.github.sparkdropout.train;

import io.github.sparkdropout.model.StepKind;

/**
 * The settings distributed training uses, resolved (no "auto" left): which master, how many replicas, the
 * per-worker minibatch, how often and how replicas average, the seed of the workers' randomness, the step and the
 * native threads per worker.
 */
public record TrainingSettings(TrainingMasterKind master, int workers, int perWorkerBatchSize,
                               int averagingFrequency, AveragingSync sync, long seed, StepKind step,
                               int threadsPerWorker) implements java.io.Serializable {
    public TrainingSettings {
        if (workers < 1 || perWorkerBatchSize < 1 || averagingFrequency < 1 || threadsPerWorker < 1) {
            throw new IllegalArgumentException("unresolved or invalid training settings: workers " + workers
                    + ", per-worker batch " + perWorkerBatchSize + ", averaging frequency " + averagingFrequency
                    + ", threads per worker " + threadsPerWorker); // not `this`: its fields are unset here
        }
        if (sync == null || sync == AveragingSync.AUTO) {
            throw new IllegalArgumentException("averaging sync not resolved: " + sync);
        }
    }
}
