package io.github.sparkdropout.replica;

import io.github.sparkdropout.model.ParamVectors;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Model replicas kept alive in an executor JVM between averaging rounds and epochs, so a round costs a parameter
 * copy, not a network construction. Keyed by owner and task ({@link ReplicaKey}); a bounded LRU, so a replica evicted or never
 * built here (a task moved to another executor) is simply rebuilt from the configuration. A task gets its replica
 * holding the parameters it asks for: set at the start of the task, or, for parameters it identifies, kept if the
 * replica already holds them (the replica ended the previous epoch with them); so caching never changes results.
 */
public final class ReplicaCache {
    // a JVM holds a training and an evaluation replica per task it runs at once (local mode: one per core), plus
    // a few of earlier attempts; a cap below that would rebuild every replica every epoch
    private static final int MAX_REPLICAS = Math.max(16, 4 * Runtime.getRuntime().availableProcessors());

    private static final Map<ReplicaKey, Replica> REPLICAS =
            new LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<ReplicaKey, Replica> eldest) {
                    return size() > MAX_REPLICAS;
                }
            };

    /** The id of no particular parameters: a replica holding them is always given its parameters. */
    public static final long ANONYMOUS_PARAMS = 0;

    private ReplicaCache() {
    }

    /**
     * In a task: the replica for {@code key} (built from {@code confJson} the first time it is asked for in this
     * JVM) holding {@code params}, with this JVM's native threads capped at {@code threads}.
     */
    public static Replica acquire(ReplicaKey key, String confJson, float[] params, int threads) {
        return acquire(key, confJson, ANONYMOUS_PARAMS, () -> params, threads);
    }

    /**
     * In a task: the replica for {@code key} holding the parameters with id {@code paramsId}: a cached replica that already
     * holds them (it ended the previous epoch with them) keeps them, and {@code params} is not called; any other gets
     * {@code params}' (and is built from them the first time). Training's way of not shipping 1 MB to every task of
     * every epoch: an id is only ever given to one set of parameters.
     */
    public static Replica acquire(ReplicaKey key, String confJson, long paramsId, Supplier<float[]> params, int threads) {
        NativeThreads.limit(threads);
        Replica replica;
        synchronized (REPLICAS) {
            replica = REPLICAS.get(key);
        }
        if (replica == null) {
            // built outside the lock: a JVM's workers build theirs at once, not in turn
            Replica built = new Replica(confJson, params.get());
            built.holding(paramsId);
            synchronized (REPLICAS) {
                replica = REPLICAS.putIfAbsent(key, built);
            }
            if (replica == null) {
                return built; // holds params already
            }
        }
        if (paramsId == ANONYMOUS_PARAMS || replica.holding() != paramsId) {
            ParamVectors.set(replica.net(), params.get());
            replica.holding(paramsId);
        }
        return replica;
    }

    /** Drops every replica of {@code owner} (the end of a training, an evaluation, a prediction). */
    public static void evict(String owner) {
        synchronized (REPLICAS) {
            REPLICAS.keySet().removeIf(k -> k.owner().equals(owner));
        }
    }
}
