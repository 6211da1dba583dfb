package io.github.sparkdropout.concurrent;

import org.junit.jupiter.api.Test;

import java.util.concurrent.ThreadFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every thread of the factory is a daemon of the one name. */
class DaemonThreadsTest {
    @Test
    void threadsAreNamedDaemons() {
        ThreadFactory factory = DaemonThreads.named("daemon-threads-test");
        for (int i = 0; i < 2; i++) {
            Thread t = factory.newThread(() -> { });
            assertEquals("daemon-threads-test", t.getName());
            assertTrue(t.isDaemon());
        }
    }
}
