package io.github.sparkdropout.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The executors' warm-up joins whatever plugins the user named, once. */
class SparkSessionsTest {
    private static final String OURS = "io.github.sparkdropout.train.worker.ExecutorWarmUp";

    @Test
    void theWarmUpIsAddedToTheUsersPluginsOnce() {
        assertEquals(OURS, SparkSessions.withWarmUp(""));
        assertEquals("com.example.Metrics," + OURS, SparkSessions.withWarmUp("com.example.Metrics"));
        assertEquals("a.B,c.D," + OURS, SparkSessions.withWarmUp(" a.B , " + OURS + ",c.D,"));
    }
}
