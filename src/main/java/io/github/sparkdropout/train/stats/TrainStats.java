package io.github.sparkdropout.train.stats;

import io.github.sparkdropout.model.MinibatchStep;
import org.apache.spark.SparkContext;
import org.apache.spark.util.DoubleAccumulator;
import org.apache.spark.util.LongAccumulator;

import java.io.Serializable;

/**
 * One epoch's training loss and accuracy, summed on the workers as the seed's train_epoch_ch3 does (loss and
 * correct predictions of every minibatch, dropout on) and merged by Spark accumulators.
 */
public final class TrainStats implements Serializable {
    private static final long serialVersionUID = 1L;

    private final DoubleAccumulator lossSum;
    private final LongAccumulator correct;
    private final LongAccumulator examples;
    private final LongAccumulator steps;
    private final LongAccumulator workerNanos;
    private final LongAccumulator waitNanos;

    private TrainStats(SparkContext sc, int epoch) {
        lossSum = sc.doubleAccumulator("epoch " + epoch + " train loss sum");
        correct = sc.longAccumulator("epoch " + epoch + " train correct");
        examples = sc.longAccumulator("epoch " + epoch + " train examples");
        steps = sc.longAccumulator("epoch " + epoch + " train minibatch steps");
        workerNanos = sc.longAccumulator("epoch " + epoch + " worker task nanoseconds");
        waitNanos = sc.longAccumulator("epoch " + epoch + " worker nanoseconds waiting for means");
    }

    /** Fresh accumulators for one epoch, registered with {@code sc}. */
    public static TrainStats forEpoch(SparkContext sc, int epoch) {
        return new TrainStats(sc, epoch);
    }

    /** Called on a worker after each minibatch step. */
    public void add(MinibatchStep.Outcome step, long minibatchSize) {
        lossSum.add(step.meanLoss() * minibatchSize);
        correct.add(step.correct());
        examples.add(minibatchSize);
        steps.add(1);
    }

    /** Called on a worker with the time it spent training in one of its tasks (resident master only). */
    public void addWorkerNanos(long nanos) {
        workerNanos.add(nanos);
    }

    /** Called on a worker with the time it waited for the means of a task's rounds (resident master, barrier). */
    public void addWaitNanos(long nanos) {
        waitNanos.add(nanos);
    }

    /** Wall seconds the workers waited for the round means, summed over workers (resident master, barrier). */
    public double waitSeconds() {
        return waitNanos.value() / 1e9;
    }

    /** Wall seconds the workers spent inside their tasks, summed over workers (resident master only). */
    public double workerSeconds() {
        return workerNanos.value() / 1e9;
    }

    /** Driver side: forgets a failed attempt of the epoch (a failed task's updates are never merged anyway). */
    public void reset() {
        lossSum.reset();
        correct.reset();
        examples.reset();
        steps.reset();
        workerNanos.reset();
        waitNanos.reset();
    }

    /** Mean loss per example over the epoch (driver side, after the epoch). */
    public double meanLoss() {
        return examples.value() == 0 ? Double.NaN : lossSum.value() / examples.value();
    }

    public double accuracy() {
        return examples.value() == 0 ? Double.NaN : (double) correct.value() / examples.value();
    }

    public long examples() {
        return examples.value();
    }

    public long steps() {
        return steps.value();
    }
}
