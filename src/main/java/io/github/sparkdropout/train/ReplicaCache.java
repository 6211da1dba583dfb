package io.github.sparkdropout.train;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Model replicas kept alive in an executor JVM between averaging rounds, so a round costs a parameter copy,
 * not a network construction. Keyed by training id and partition; a bounded LRU, so a replica evicted or never
 * built here (a task moved to another executor) is simply rebuilt from the configuration — parameters are set
 * from the broadcast at the start of every round either way, so caching never changes results.
 */
public final class ReplicaCache {
    private static final int MAX_REPLICAS = 16;

    private static final Map<String, Replica> REPLICAS =
            new LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Replica> eldest) {
                    return size() > MAX_REPLICAS;
                }
            };

    private ReplicaCache() {
    }

    /** The replica for {@code key}, built from {@code confJson} the first time it is asked for in this JVM. */
    public static Replica get(String key, String confJson) {
        synchronized (REPLICAS) {
            return REPLICAS.computeIfAbsent(key, k -> new Replica(confJson));
        }
    }

    /** Drops every replica whose key starts with {@code prefix} (end of a training). */
    public static void evict(String prefix) {
        synchronized (REPLICAS) {
            REPLICAS.keySet().removeIf(k -> k.startsWith(prefix));
        }
    }
}
