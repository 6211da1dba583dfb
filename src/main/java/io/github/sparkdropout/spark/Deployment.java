package io.github.sparkdropout.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;

/**
 * What the Spark deployment offers the job, read from its {@code SparkContext} in this one place: every decision
 * that depends on the deployment (the "auto" settings, barrier or job averaging, how often an epoch is tried, how
 * long a barrier stage may wait for slots) takes it from here. The scheduler answers the counts itself, so no
 * second parser of the master URL guesses them.
 *
 * @param local                  the executors live in the driver's JVM (local mode)
 * @param defaultParallelism     Spark's default partition count
 * @param coresPerExecutor       cores an executor's tasks share (local mode: this machine's)
 * @param slotsPerExecutor       tasks an executor runs at once (cores / spark.task.cpus)
 * @param concurrentSlots        task slots of the executors registered when this was read
 * @param executors              executors registered when this was read (at least 1: in local mode the driver's
 *                               JVM)
 * @param taskAttempts           how often Spark tries a task (local[N] once, local[N,M] M times, else
 *                               spark.task.maxFailures)
 * @param dynamicAllocation      executors come and go with the load (barrier stages are refused then)
 * @param barrierSlotWaitMillis  how long Spark waits for a barrier stage's slots before failing the job
 */
public record Deployment(boolean local, int defaultParallelism, int coresPerExecutor, int slotsPerExecutor,
                         int concurrentSlots, int executors, int taskAttempts, boolean dynamicAllocation,
                         long barrierSlotWaitMillis) {
    /** The deployment {@code sc} runs on, as of now (executors may still be registering). */
    public static Deployment of(SparkContext sc) {
        SparkConf conf = sc.getConf();
        int taskCpus = Math.max(1, conf.getInt("spark.task.cpus", 1));
        int slots = SparkInternals.concurrentTaskSlots(sc);
        boolean local = sc.isLocal();
        int cores = local ? Runtime.getRuntime().availableProcessors() : conf.getInt("spark.executor.cores", taskCpus);
        int registered = sc.statusTracker().getExecutorInfos().length; // the driver is listed too
        return new Deployment(local, sc.defaultParallelism(), cores,
                local ? Math.max(1, slots) : Math.max(1, cores / taskCpus), slots,
                Math.max(1, registered - 1), SparkInternals.taskAttempts(sc),
                conf.getBoolean("spark.dynamicAllocation.enabled", false),
                conf.getTimeAsMs("spark.scheduler.barrier.maxConcurrentTasksCheck.interval", "15s")
                        * conf.getInt("spark.scheduler.barrier.maxConcurrentTasksCheck.maxFailures", 40));
    }
}
