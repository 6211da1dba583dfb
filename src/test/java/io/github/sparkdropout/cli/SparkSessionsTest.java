package io.github.sparkdropout.cli;

import io.github.sparkdropout.config.UsageException;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The executors' warm-up joins whatever plugins the user named, once. */
class SparkSessionsTest {
    private static final String OURS = "io.github.sparkdropout.train.worker.ExecutorWarmUp";

    @Test
    void theWarmUpIsAddedToTheUsersPluginsOnce() {
        assertEquals(OURS, SparkSessions.withWarmUp(""));
        assertEquals("com.example.Metrics," + OURS, SparkSessions.withWarmUp("com.example.Metrics"));
        assertEquals("a.B,c.D," + OURS, SparkSessions.withWarmUp(" a.B , " + OURS + ",c.D,"));
    }

    @Test
    void theWarmUpSettingIsTrueOrFalseAndAnythingElseIsTheUsersMistake() {
        assertTrue(SparkSessions.warmUp(new SparkConf(false)));
        assertFalse(SparkSessions.warmUp(new SparkConf(false).set(SparkSessions.WARM_UP, " False")));
        assertTrue(SparkSessions.warmUp(new SparkConf(false).set(SparkSessions.WARM_UP, "TRUE")));
        UsageException e = assertThrows(UsageException.class,
                () -> SparkSessions.warmUp(new SparkConf(false).set(SparkSessions.WARM_UP, "maybe")));
        assertEquals("spark.sparkdropout.executorWarmUp must be true or false, not 'maybe'", e.getMessage());
    }
}
