package io.github.sparkdropout.train.stats;

/**
 * Told on the driver after every averaging round of an epoch (progress within an epoch). May be called from
 * Spark's RPC threads, or in local mode from a worker's task thread.
 */
public interface RoundListener {
    void roundDone(int round, int rounds, long examplesDone, long examplesTotal);

    RoundListener NONE = (round, rounds, done, total) -> { };

    /** {@code listener} whose failures are logged, never thrown: progress reporting must not stop training. */
    static RoundListener logging(RoundListener listener) {
        java.util.Objects.requireNonNull(listener, "listener (RoundListener.NONE for none)");
        return (round, rounds, done, total) -> {
            try {
                listener.roundDone(round, rounds, done, total);
            } catch (RuntimeException e) {
                org.slf4j.LoggerFactory.getLogger(RoundListener.class).warn("progress report failed: {}", e.toString());
            }
        };
    }
}
