package io.github.sparkdropout.train;

import io.github.sparkdropout.model.StepKind;
import org.junit.jupiter.api.Test;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.dataformat.yaml.YAMLFactory;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The master's JSON and YAML (DL4J's {@code TrainingMaster} contract) say the settings it trains with. */
class ResidentAveragingTrainingMasterTest {
    private static final long SEED = (1L << 40) + 7; // past an int's range

    @Test
    void jsonAndYamlParseBackToTheSettings() throws Exception {
        ResidentAveragingTrainingMaster master = new ResidentAveragingTrainingMaster(new TrainingSettings(
                TrainingMasterKind.RESIDENT, 3, 64, 5, AveragingSync.JOBS, SEED, StepKind.DL4J, 2), null, null, 1);
        ResidentAveragingTrainingMaster.Description want = new ResidentAveragingTrainingMaster.Description(
                "resident-parameter-averaging", 64, 5, SEED, StepKind.DL4J, AveragingSync.JOBS);
        // read by mappers of their own, not the master's
        ObjectMapper json = new ObjectMapper();
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        assertEquals(want, json.readValue(master.toJson(), ResidentAveragingTrainingMaster.Description.class));
        assertEquals(want, yaml.readValue(master.toYaml(), ResidentAveragingTrainingMaster.Description.class));
        for (JsonNode tree : List.of(json.readTree(master.toJson()), yaml.readTree(master.toYaml()))) {
            List<String> fields = new ArrayList<>();
            tree.fieldNames().forEachRemaining(fields::add);
            assertEquals(List.of("type", "batchSizePerWorker", "averagingFrequency", "seed", "step", "sync"), fields);
            assertEquals("resident-parameter-averaging", tree.get("type").asText());
            assertEquals(64, tree.get("batchSizePerWorker").asInt());
            assertEquals(5, tree.get("averagingFrequency").asInt());
            assertEquals(SEED, tree.get("seed").asLong());
            assertEquals("DL4J", tree.get("step").asText());
            assertEquals("JOBS", tree.get("sync").asText());
        }
    }
}
