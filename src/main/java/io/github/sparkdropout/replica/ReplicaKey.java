package io.github.sparkdropout.replica;

import java.io.Serializable;

/**
 * Which cached replica a task takes.
 *
 * @param owner   whose replicas these are: one training, evaluation, prediction or model's scoring; what
 *                {@link ReplicaCache#evict} drops at once when it ends
 * @param part    which of the owner's sets (a training's generation: tasks of a failed barrier stage may still be
 *                stopping and never share their replicas with the next attempt's)
 * @param slot    the task's place in it: its partition, or its thread where tasks of one partition may run at once
 * @param attempt Spark's attempt number of the task (a speculative copy must not share the original's replica)
 */
public record ReplicaKey(String owner, String part, long slot, int attempt) implements Serializable {
    /** Slot {@code slot} of {@code owner}'s only set, first attempt. */
    public static ReplicaKey of(String owner, long slot) {
        return new ReplicaKey(owner, "", slot, 0);
    }
}
