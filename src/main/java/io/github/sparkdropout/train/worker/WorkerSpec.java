package io.github.sparkdropout.train.worker;

import io.github.sparkdropout.replica.ReplicaKey;

import io.github.sparkdropout.model.StepKind;
import io.github.sparkdropout.train.stats.TrainStats;
import org.apache.spark.broadcast.Broadcast;

import java.io.Serializable;

/**
 * Everything a worker needs for one epoch, shipped with its tasks: where its cached replica is, how to rebuild it,
 * the epoch's coordinates and the step settings.
 *
 * @param replicas    this training's replicas: their owner and set ({@link ReplicaKey}; the partition is the slot)
 * @param networkJson the network's DL4J configuration (JSON), broadcast once per training
 * @param seed        the run seed ({@link Seeds})
 * @param epoch       0-based epoch
 * @param attempt     1-based attempt of this epoch (a failed barrier epoch is trained again)
 * @param frequency   minibatch steps between two averagings
 * @param batch       examples per minibatch step of one worker
 * @param step        the SGD step
 * @param threads     native threads per worker task
 * @param stats       where the steps' loss and accuracy go
 */
public record WorkerSpec(ReplicaKey replicas, Broadcast<String> networkJson, long seed, int epoch, int attempt,
                         int frequency, int batch, StepKind step, int threads, TrainStats stats)
        implements Serializable {
}
