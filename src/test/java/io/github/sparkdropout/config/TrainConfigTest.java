package io.github.sparkdropout.config;

import io.github.sparkdropout.Deployments;
import io.github.sparkdropout.model.Variant;
import io.github.sparkdropout.train.AveragingSync;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainConfigTest {
    private static String rejected(Map<String, String> flags) {
        String msg = assertThrows(UsageException.class, () -> TrainConfig.of(flags)).getMessage();
        assertFalse(msg.contains("\n"), msg);
        return msg;
    }

    @Test
    void defaultsAreTheBooks() {
        TrainConfig c = TrainConfig.of(Map.of());
        assertEquals(10, c.epochs());
        assertEquals(256, c.batchSize());
        assertEquals(0.5, c.lr());
        assertArrayEquals(new int[]{784, 256, 256, 10}, c.layers());
        assertArrayEquals(new double[]{0.2, 0.5}, c.dropouts(), "auto: the book's two");
        assertEquals(Variant.SCRATCH, c.variant());
        assertEquals("auto", c.toFlags().get("workers"), "auto until resolved: no number");
        assertThrows(IllegalStateException.class, c::workers);
        TrainConfig r = c.resolve(Deployments.of(2, 2, 2), "gen");
        assertEquals(2, r.workers());
        assertEquals(128, r.perWorkerBatchSize());
        assertEquals(1, r.threadsPerWorker().getAsInt(), "2 cores shared by 2 concurrent workers");
        assertEquals("gen", r.runId());
        assertEquals(2, c.resolve(Deployments.of(1, 2, 2), "gen").threadsPerWorker().getAsInt(), "one worker takes both cores");
    }

    @Test
    void flagsOverrideDefaults() {
        TrainConfig c = TrainConfig.of(Map.of("epochs", "3", "variant", "concise", "workers", "4", "run-id", "r1"));
        assertEquals(3, c.epochs());
        assertEquals(Variant.CONCISE, c.variant());
        assertEquals(64, c.resolve(Deployments.of(2, 2, 2), "x").perWorkerBatchSize());
        assertEquals("r1", c.resolve(Deployments.of(2, 2, 2), "x").runId());
    }

    @Test
    void averagingSyncIsBarrierOnlyWhereABarrierStageCanRun() {
        TrainConfig auto = TrainConfig.of(Map.of("workers", "4")).resolve(Deployments.of(2, 1, 1), "x");
        assertEquals(AveragingSync.AUTO, auto.averagingSync(), "auto until the executors are known");
        assertEquals(AveragingSync.BARRIER, auto.withSyncFor(Deployments.withSlots(4, false)).averagingSync());
        assertEquals(AveragingSync.JOBS, auto.withSyncFor(Deployments.withSlots(2, false)).averagingSync(), "4 workers, 2 slots");
        assertEquals(AveragingSync.JOBS, auto.withSyncFor(Deployments.withSlots(8, true)).averagingSync(), "dynamic allocation");
        TrainConfig barrier = TrainConfig.of(Map.of("workers", "4", "averaging-sync", "barrier")).resolve(Deployments.of(2, 1, 1), "x");
        UsageException e = assertThrows(UsageException.class, () -> barrier.withSyncFor(Deployments.withSlots(2, false)));
        assertEquals("--averaging-sync barrier needs all 4 workers running at once but there are 2 task slots:"
                + " use --workers 2 or --averaging-sync jobs", e.getMessage());
        assertTrue(assertThrows(UsageException.class, () -> barrier.withSyncFor(Deployments.withSlots(8, true))).getMessage()
                .contains("dynamicAllocation"));
        assertEquals(AveragingSync.JOBS, TrainConfig.of(Map.of("workers", "4", "averaging-sync", "jobs"))
                .resolve(Deployments.of(2, 1, 1), "x").withSyncFor(Deployments.withSlots(8, false)).averagingSync(), "jobs stays jobs");
        assertEquals(AveragingSync.JOBS, TrainConfig.of(Map.of("training-master", "stock")).resolve(Deployments.of(2, 1, 1), "x")
                .withSyncFor(Deployments.withSlots(8, false)).averagingSync(), "the stock master runs a job per round");
        assertTrue(rejected(Map.of("training-master", "stock", "averaging-sync", "barrier"))
                .contains("needs --training-master resident"));
    }

    @Test
    void impossibleSettingsAreOneLineErrorsNamingTheFlag() {
        assertTrue(rejected(Map.of("dropouts", "0.2,1.5")).startsWith("--dropouts 0.2,1.5 is out of range"));
        assertTrue(rejected(Map.of("dropouts", "0.2,x")).startsWith("--dropouts '0.2,x' is not valid"));
        assertTrue(rejected(Map.of("lr", "0")).contains("--lr"));
        assertTrue(rejected(Map.of("epochs", "ten")).contains("--epochs 'ten' is not valid"));
        assertTrue(rejected(Map.of("variant", "fancy")).contains("one of scratch|concise"));
        assertTrue(rejected(Map.of("workers", "0")).contains("--workers"));
        assertTrue(rejected(Map.of("run-id", "a b")).contains("--run-id"));
        for (String outside : new String[]{"..", ".hidden", "_staging", "-x"}) { // folder names, Spark-hidden files
            assertTrue(rejected(Map.of("run-id", outside)).contains("--run-id"), outside);
        }
        assertEquals("r.1_a-b", TrainConfig.of(Map.of("run-id", "r.1_a-b")).runId());
        assertTrue(rejected(Map.of("bogus", "1")).contains("unknown option --bogus"));
        assertTrue(rejected(Map.of("workers", "3")).contains("does not split evenly over 3 workers"));
        assertTrue(rejected(Map.of("variant", "concise", "dropouts", "0.2,1")).contains("concise"));
    }

    @Test
    void settingsOfAnotherModeAreRefusedNotIgnored() {
        assertTrue(rejected(Map.of("training-master", "stock", "step", "lean"))
                .startsWith("--step applies to --training-master resident only"));
        assertTrue(rejected(Map.of("training-master", "stock", "threads-per-worker", "2"))
                .startsWith("--threads-per-worker applies to --training-master resident only"));
        TrainConfig stock = TrainConfig.of(Map.of("training-master", "stock")).resolve(Deployments.of(2, 2, 2), "x");
        assertEquals(io.github.sparkdropout.model.StepKind.DL4J, stock.step(), "DL4J's master steps with fit");
        assertTrue(stock.threadsPerWorker().isEmpty(), "and caps no threads");
        assertEquals(null, stock.recordedValues().get("threads_per_worker"));
    }

    @Test
    void theRecordedColumnsAndTheDescriptionComeFromTheDeclarations() {
        TrainConfig c = TrainConfig.of(Map.of("workers", "2", "data", "d")).resolve(Deployments.of(2, 2, 2), "r");
        Map<String, Object> rec = c.recordedValues();
        assertEquals(List.of("variant", "epochs", "workers", "batch_size", "averaging_frequency", "lr", "layers",
                "dropouts", "seed", "training_master", "step", "averaging_sync", "threads_per_worker", "data_source",
                "train_limit", "test_limit"), List.copyOf(rec.keySet()));
        assertEquals("scratch", rec.get("variant"));
        assertEquals(2, rec.get("workers"));
        assertEquals("d", rec.get("data_source"));
        assertArrayEquals(new Integer[]{784, 256, 256, 10}, (Integer[]) rec.get("layers"));
        assertArrayEquals(new Double[]{0.2, 0.5}, (Double[]) rec.get("dropouts"));
        assertEquals("variant=scratch epochs=10 workers=2 batch-size=256 averaging-frequency=20 lr=0.5"
                + " layers=784,256,256,10 dropouts=0.2,0.5 seed=42 training-master=resident step=lean averaging-sync=auto threads-per-worker=1"
                + " train-limit=0 test-limit=0", c.toString());
    }

    @Test
    void scratchAcceptsTheSeedsWholeRange() {
        assertArrayEquals(new double[]{1.0, 0.0}, TrainConfig.of(Map.of("dropouts", "1,0")).dropouts());
    }

    @Test
    void anyDepthAndWidthsWithOneDropoutPerHiddenLayer() {
        TrainConfig deep = TrainConfig.of(Map.of("layers", "784, 64,32,16 ,10"));
        assertArrayEquals(new int[]{784, 64, 32, 16, 10}, deep.layers());
        assertArrayEquals(new double[]{0.2, 0.5, 0.5}, deep.dropouts(), "auto: 0.2 first, 0.5 after");
        assertArrayEquals(new double[]{0.2}, TrainConfig.of(Map.of("layers", "784,100,10")).dropouts());
        assertArrayEquals(new double[]{0.1, 0.3}, TrainConfig.of(Map.of("layers", "784,8,8,10", "dropouts",
                "0.1,0.3")).dropouts());
        assertEquals("784,64,32,16,10", deep.toFlags().get("layers"));
        assertEquals("0.2,0.5,0.5", deep.toFlags().get("dropouts"), "recorded resolved, so a resume rebuilds it");
        assertEquals("--dropouts 0.1 gives 1 probability for 2 hidden layers (--layers 784,256,256,10): one per"
                + " hidden layer", rejected(Map.of("dropouts", "0.1")));
        assertTrue(rejected(Map.of("layers", "784,10")).startsWith("--layers 784,10 is out of range: expected at"
                + " least 3 sizes"), "a hidden layer at least");
        assertTrue(rejected(Map.of("layers", "784,0,10")).contains("--layers 784,0,10 is out of range"));
        assertEquals("--layers 30,16,2 does not fit Fashion-MNIST: it must start with 784 (28 x 28 pixels) and end"
                + " with 10 (classes); only the hidden sizes between are yours to choose",
                rejected(Map.of("layers", "30,16,2")));
        assertArrayEquals(new int[]{30, 16, 2}, TrainConfig.of(Map.of("layers", "30,16,2", "data", "dataframe"))
                .layers(), "a DataFrame's shape is its own");
        assertEquals("--dropout1 and --dropout2 became --dropouts P1,P2 (one probability per hidden layer)",
                rejected(Map.of("dropout1", "0.3")));
    }

    @Test
    void aRunRecordedBeforeDropoutsResumesWithItsTwoProbabilities() {
        Map<String, String> recorded = new java.util.LinkedHashMap<>(TrainConfig.of(Map.of()).toFlags());
        recorded.remove("layers");
        recorded.remove("dropouts");
        recorded.put("dropout1", "0.3");
        recorded.put("dropout2", "0.6");
        recorded.put("run-id", "old");
        TrainConfig resumed = TrainConfig.resumed(recorded, Map.of("epochs", "12"));
        assertArrayEquals(new double[]{0.3, 0.6}, resumed.dropouts());
        assertArrayEquals(new int[]{784, 256, 256, 10}, resumed.layers());
        assertEquals(12, resumed.epochs());
        assertTrue(assertThrows(UsageException.class, () -> TrainConfig.resumed(recorded, Map.of("dropouts",
                "0.2,0.5"))).getMessage().startsWith("--dropouts 0.2,0.5 differs from run 'old' (0.3,0.6)"));
        TrainConfig.resumed(recorded, Map.of("dropouts", "0.3, 0.6")); // the same, written otherwise
    }
}
