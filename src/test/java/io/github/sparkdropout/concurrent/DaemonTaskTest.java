package io.github.sparkdropout.concurrent;

import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A task's result, or its failure as the caller's own thread would have seen it. */
class DaemonTaskTest {
    @Test
    void theResultComesFromANamedDaemonThread() {
        DaemonTask<Thread> task = DaemonTask.start("daemon-task-test", Thread::currentThread);
        Thread ran = task.join("the test's work");
        assertEquals("daemon-task-test", ran.getName());
        assertTrue(ran.isDaemon());
    }

    @Test
    void failuresArriveAsTheyWereThrownOrWrappedWhenChecked() {
        IllegalArgumentException thrown = new IllegalArgumentException("bad input");
        assertSame(thrown, assertThrows(IllegalArgumentException.class,
                () -> DaemonTask.start("t", () -> {
                    throw thrown;
                }).join("x")));
        IllegalStateException wrapped = assertThrows(IllegalStateException.class,
                () -> DaemonTask.start("t", () -> {
                    throw new IOException("disk");
                }).join("reading the disk"));
        assertEquals("reading the disk failed", wrapped.getMessage());
        assertEquals("disk", wrapped.getCause().getMessage());
    }
}
