package io.github.sparkdropout.train.worker;

import io.github.sparkdropout.model.DropoutMlp;
import io.github.sparkdropout.model.MinibatchStep;
import io.github.sparkdropout.model.MlpShape;
import io.github.sparkdropout.model.ParamVectors;
import io.github.sparkdropout.model.StepKind;
import io.github.sparkdropout.model.Variant;
import io.github.sparkdropout.replica.Replica;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The executors' warm-up works, runs on a daemon thread, and changes nothing a training computes. */
class ExecutorWarmUpTest {
    /** Ten lean steps of the book's network from a seeded start on seeded rows, in this thread. */
    private static float[] tenSteps() {
        MlpShape shape = MlpShape.book(0.2, 0.5);
        float[] start = ParamVectors.get(DropoutMlp.create(Variant.SCRATCH, 0.5, shape, 42));
        Replica replica = new Replica(DropoutMlp.configuration(Variant.SCRATCH, 0.5, shape, 42).toJson(), start);
        MinibatchStep step = replica.step(StepKind.LEAN);
        Nd4j.getRandom().setSeed(7);
        INDArray x = Nd4j.rand(DataType.FLOAT, 256, 784);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 256, 10);
        for (int i = 0; i < 256; i++) {
            y.putScalar(i, i % 10, 1f);
        }
        for (int k = 0; k < 10; k++) {
            step.step(replica.net(), x, y);
        }
        return ParamVectors.get(replica.net());
    }

    @Test
    void warmsUpWithoutFailingAndTheTrainingComputesTheSameBits() throws Exception {
        float[] before = tenSteps();
        CompletableFuture<Void> alongside = CompletableFuture.runAsync(ExecutorWarmUp::warmUp);
        float[] during = tenSteps();
        alongside.get(2, TimeUnit.MINUTES); // fails the test if the warm-up threw
        ExecutorWarmUp.warmUp(); // in this very thread too
        float[] after = tenSteps();
        assertArrayEquals(before, during);
        assertArrayEquals(before, after);
    }

    @Test
    void theExecutorSideStartsADaemonThreadAndTheDriverSideIsNone() throws Exception {
        ExecutorWarmUp plugin = new ExecutorWarmUp();
        assertNull(plugin.driverPlugin());
        plugin.executorPlugin().init(null, Map.of());
        Thread warmUp = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("sparkdropout-executor-warm-up")).findFirst().orElse(null);
        if (warmUp != null) { // else already done
            assertTrue(warmUp.isDaemon(), "never keeps a JVM alive");
            warmUp.join(TimeUnit.MINUTES.toMillis(2));
        }
    }
}
