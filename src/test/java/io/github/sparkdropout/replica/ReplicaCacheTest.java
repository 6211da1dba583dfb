package io.github.sparkdropout.replica;

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
        MultiLayerNetwork source = DropoutMlp.create(Variant.CONCISE, 0.5, 0.2, 0.5, 11);
        String json = source.getLayerWiseConfigurations().toJson();
        float[] params = ParamVectors.get(source);
        List<Replica> built = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            String key = "replica-cache-test/" + w;
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
        Replica again = ReplicaCache.acquire("replica-cache-test/0", json, other, 1);
        assertTrue(built.stream().anyMatch(r -> r == again), "the cached replica, not a new one");
        assertArrayEquals(other, ParamVectors.get(again.net()), "set to the parameters asked for");
        ReplicaCache.evict("replica-cache-test/");
    }
}
