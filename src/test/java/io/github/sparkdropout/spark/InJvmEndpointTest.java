package io.github.sparkdropout.spark;

import io.github.sparkdropout.TestSpark;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A driver endpoint asked from the driver's own JVM (local mode): handled in the caller's thread, by reference. */
class InJvmEndpointTest {
    @Test
    void theCallersThreadRunsTheHandlerAndRepliesArriveByReference() throws Exception {
        TestSpark.get();
        AtomicReference<Thread> handledIn = new AtomicReference<>();
        List<SparkInternals.Reply> waiting = new ArrayList<>();
        try (SparkInternals.DriverEndpoint endpoint = SparkInternals.registerOnDriver("sparkdropout-in-jvm-test",
                (request, reply) -> {
                    handledIn.set(Thread.currentThread());
                    if ("fail".equals(request)) {
                        reply.fail("refused");
                    } else if ("later".equals(request)) {
                        waiting.add(reply); // answered by the next request, as the last worker of a round answers
                    } else {
                        for (SparkInternals.Reply r : waiting) {
                            r.send(request);
                        }
                        waiting.clear();
                        reply.send(request);
                    }
                })) {
            SparkInternals.EndpointClient client = SparkInternals.driverEndpoint(endpoint.name());
            StringBuilder message = new StringBuilder("by reference");
            assertSame(message, client.ask(message, StringBuilder.class, () -> { }));
            assertSame(Thread.currentThread(), handledIn.get(), "no hop through Spark's dispatcher thread");

            // a caller left waiting gets its reply from another thread's request; it keeps polling meanwhile
            AtomicReference<Object> laterReply = new AtomicReference<>();
            java.util.concurrent.atomic.AtomicInteger polls = new java.util.concurrent.atomic.AtomicInteger();
            Thread first = new Thread(() -> laterReply.set(client.ask("later", Object.class,
                    polls::incrementAndGet)));
            first.start();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (polls.get() < 2 && System.nanoTime() < deadline) { // it keeps checking while it waits
                Thread.sleep(10);
            }
            assertTrue(polls.get() >= 2, "the waiting caller ran its check every 100 ms: " + polls.get());
            assertEquals(null, laterReply.get(), "no reply before the next request");
            assertEquals("now", client.ask("now", String.class, () -> { }));
            first.join(10_000);
            assertEquals("now", laterReply.get());

            IllegalStateException failed = assertThrows(IllegalStateException.class,
                    () -> client.ask("fail", String.class, () -> { }));
            assertTrue(failed.getCause().getMessage().contains("refused"), failed.getCause().getMessage());
        }
        assertThrows(IllegalStateException.class, () -> SparkInternals.driverEndpoint("sparkdropout-in-jvm-test"),
                "a closed endpoint is gone");
    }
}
