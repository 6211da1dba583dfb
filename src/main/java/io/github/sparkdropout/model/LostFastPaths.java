package io.github.sparkdropout.model;

import org.slf4j.Logger;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The warning that a direct native path cannot be used. Its fallback gives the same results, only slower, so without
 * it an ND4J or DL4J upgrade that breaks a path would go unnoticed; once per JVM and path, as the path is prepared
 * again by every replica.
 */
final class LostFastPaths {
    private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

    private LostFastPaths() {
    }

    /**
     * Warns on {@code log} that {@code path} is lost because {@code why} ({@code cause}: may be null) and {@code
     * instead} runs, unless this JVM was already told about {@code path}. Whether it warned.
     */
    static boolean warn(Logger log, String path, String why, String instead, Throwable cause) {
        if (!WARNED.add(path)) {
            return false;
        }
        log.warn("fast path lost: {} ({}); {} instead, with the same results but slower", path, why, instead,
                cause);
        return true;
    }
}
