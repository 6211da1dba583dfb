package io.github.sparkdropout.train;

/** Which DL4J {@code TrainingMaster} averages the replicas. */
public enum TrainingMasterKind {
    /** {@link ResidentAveragingTrainingMaster}: data and replicas stay in the executors between averaging rounds. */
    RESIDENT,
    /** DL4J's stock {@code ParameterAveragingTrainingMaster} (Direct RDD approach). */
    STOCK
}
