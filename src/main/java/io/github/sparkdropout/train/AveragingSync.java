package io.github.sparkdropout.train;

/** How the replicas of {@link ResidentAveragingTrainingMaster} meet to average their parameters (its transports). */
public enum AveragingSync {
    /** {@link #BARRIER} when every worker can hold a task slot at once and dynamic allocation is off, else {@link #JOBS}. */
    AUTO,
    /**
     * One Spark barrier stage per epoch: the workers' tasks stay running for the whole epoch and, after every
     * averaging period, get the mean of their parameters from an endpoint in the driver's Spark RPC
     * ({@code transport.BarrierTransport}).
     */
    BARRIER,
    /** One ordinary Spark job per averaging round: workers return their parameters, the driver averages them. */
    JOBS
}
