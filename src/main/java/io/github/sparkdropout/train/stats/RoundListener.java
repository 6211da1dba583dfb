package io.github.sparkdropout.train.stats;

/**
 * Told on the driver after every averaging round of an epoch (progress within an epoch). May be called from
 * Spark's RPC threads.
 */
public interface RoundListener {
    void roundDone(int round, int rounds, long examplesDone, long examplesTotal);

    RoundListener NONE = (round, rounds, done, total) -> { };
}
