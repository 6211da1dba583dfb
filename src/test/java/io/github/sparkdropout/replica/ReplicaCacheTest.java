package io.github.sparkdropout.replica;

import io.github.sparkdropout.model.MlpShape;
import io.github.sparkdropout.model.DropoutMlp;
import io.github.sparkdropout.model.ParamVectors;
import io.github.sparkdropout.model.Variant;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Replicas built straight from the parameters they are asked to hold, several at once, and then reused. */
class ReplicaCacheTest {
    @Test
    void aNewReplicaHoldsTheGivenParametersInItsLayersAndIsReused() throws Exception {
        MultiLayerNetwork source = DropoutMlp.create(Variant.CONCISE, 0.5, MlpShape.book(0.2, 0.5), 11);
        String json = source.getLayerWiseConfigurations().toJson();
        float[] params = ParamVectors.get(source);
        List<Replica> built = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            ReplicaKey key = ReplicaKey.of("replica-cache-test", w);
            Thread t = new Thread(() -> built.add(ReplicaCache.acquire(key, json, params, 1)));
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(2, built.size());
        assertNotSame(built.get(0), built.get(1));
        for (Replica r : built) {
            assertArrayEquals(params, ParamVectors.get(r.net()));
            // the layers' W and b are views of the parameter vector, as after DL4J's own init
            assertEquals(source.getLayer(0).getParam("W"), r.net().getLayer(0).getParam("W"));
            assertEquals(source.getLayer(2).getParam("b"), r.net().getLayer(2).getParam("b"));
        }
        float[] other = params.clone();
        other[5] += 1f;
        Replica again = ReplicaCache.acquire(ReplicaKey.of("replica-cache-test", 0), json, other, 1);
        assertTrue(built.stream().anyMatch(r -> r == again), "the cached replica, not a new one");
        assertArrayEquals(other, ParamVectors.get(again.net()), "set to the parameters asked for");
        ReplicaCache.evict("replica-cache-test");
    }

    @Test
    void aReplicaHoldingTheNamedParametersIsNotSentThemAgain() {
        MultiLayerNetwork source = DropoutMlp.create(Variant.SCRATCH, 0.5, MlpShape.book(0.2, 0.5), 12);
        String json = source.getLayerWiseConfigurations().toJson();
        float[] params = ParamVectors.get(source);
        java.util.concurrent.atomic.AtomicInteger sent = new java.util.concurrent.atomic.AtomicInteger();
        java.util.function.Supplier<float[]> send = () -> {
            sent.incrementAndGet();
            return params;
        };
        ReplicaKey key = ReplicaKey.of("replica-cache-names", 0);
        Replica built = ReplicaCache.acquire(key, json, 7L, send, 1);
        assertEquals(1, sent.get(), "a new replica is built from them");
        assertEquals(7L, built.holding());

        float[] trained = params.clone();
        trained[3] += 0.5f; // what an epoch leaves in the replica, named for the next one
        ParamVectors.set(built.net(), trained);
        built.holding(8L);
        Replica next = ReplicaCache.acquire(key, json, 8L, send, 1);
        assertTrue(next == built);
        assertEquals(1, sent.get(), "holds them already: nothing sent");
        assertArrayEquals(trained, ParamVectors.get(next.net()));

        Replica other = ReplicaCache.acquire(key, json, 9L, send, 1);
        assertEquals(2, sent.get(), "other parameters are sent");
        assertArrayEquals(params, ParamVectors.get(other.net()));
        assertEquals(9L, other.holding());

        ParamVectors.set(other.net(), trained);
        Replica unnamed = ReplicaCache.acquire(key, json, ReplicaCache.ANONYMOUS_PARAMS, send, 1);
        assertEquals(3, sent.get(), "unnamed parameters are always sent");
        assertArrayEquals(params, ParamVectors.get(unnamed.net()));
        ReplicaCache.evict("replica-cache-names");
    }
}
