package io.github.sparkdropout.checkpoint;

import io.github.sparkdropout.model.MlpShape;
import io.github.sparkdropout.model.DropoutMlp;
import io.github.sparkdropout.model.Variant;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The job writes DL4J's zip format itself (entries stored, not deflated): DL4J must read it exactly as it reads
 * what its own ModelSerializer writes, with or without the job's state entry.
 */
class RunStoreZipTest {
    @Test
    void dl4jReadsTheZipAsItReadsItsOwn(@TempDir Path dir) throws Exception {
        MultiLayerNetwork net = DropoutMlp.portable(DropoutMlp.create(Variant.CONCISE, 0.5, MlpShape.book(0.2, 0.5), 7));
        ByteArrayOutputStream own = new ByteArrayOutputStream();
        ModelSerializer.writeModel(net, own, false);
        MultiLayerNetwork expected = ModelSerializer.restoreMultiLayerNetwork(
                new ByteArrayInputStream(own.toByteArray()), false);
        for (Map<String, String> state : new Map[]{null, Map.of("epoch", "3")}) {
            byte[] zip = RunStore.zip(net, state);
            MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(zip), false);
            assertEquals(expected.params(), restored.params());
            assertEquals(expected.getLayerWiseConfigurations(), restored.getLayerWiseConfigurations());
            Path file = Files.write(dir.resolve("m" + (state == null ? 0 : 1) + ".zip"), zip);
            assertEquals(net.params(), MultiLayerNetwork.load(file.toFile(), false).params());
        }
    }
}
