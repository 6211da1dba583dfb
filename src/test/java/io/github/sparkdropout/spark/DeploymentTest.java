package io.github.sparkdropout.spark;

import io.github.sparkdropout.TestSpark;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The deployment as Spark's own scheduler reports it, for the tests' local[2] session. */
class DeploymentTest {
    @Test
    void localModeIsReadFromTheScheduler() {
        Deployment d = Deployment.of(TestSpark.get().sparkContext());
        assertTrue(d.local());
        assertEquals(2, d.concurrentSlots(), "local[2]: two task threads");
        assertEquals(2, d.slotsPerExecutor(), "one executor, the driver's JVM");
        assertEquals(Runtime.getRuntime().availableProcessors(), d.coresPerExecutor(), "the machine's cores");
        assertEquals(1, d.executors());
        assertEquals(1, d.taskAttempts(), "local[N] tries a task once");
        assertFalse(d.dynamicAllocation());
        assertEquals(15_000L * 40, d.barrierSlotWaitMillis(), "Spark's defaults: 15 s x 40");
    }
}
