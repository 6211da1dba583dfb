package io.github.sparkdropout.cli;

import io.github.sparkdropout.TestData;
import io.github.sparkdropout.TestSpark;
import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.data.ReadAhead;
import io.github.sparkdropout.metrics.CurvePlot;
import io.github.sparkdropout.metrics.MetricsTable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real job in Spark local[2] on a real-data subset: 2,560 train / 1,000 test examples (10 minibatches of 128 per worker), 1 epoch per run. */
class TrainEndToEndTest {
    @TempDir
    static Path dir;
    static String metrics;

    @BeforeAll
    static void trainTwoRuns() {
        metrics = dir.resolve("metrics").toString();
        SparkSession spark = TestSpark.get();
        for (String[] run : new String[][]{{"e2e-scratch", "scratch", "resident", "784,256,256,10"},
                {"e2e-stock", "concise", "stock", "784,64,32,10"}}) {
            TrainConfig cfg = TrainConfig.of(Map.of("data", TestData.realData(), "metrics", metrics,
                    "train-limit", "2560", "test-limit", "1000", "epochs", "1", "run-id", run[0],
                    "variant", run[1], "training-master", run[2], "workers", "2", "layers", run[3]));
            // the first run's files are read ahead, as `train` does while Spark starts; the second's by the job
            ReadAhead ahead = run[0].equals("e2e-scratch")
                    ? ReadAhead.start(cfg.data(), cfg.trainLimit(), cfg.testLimit()) : null;
            assertEquals(0, TrainCommand.train(spark, cfg, ahead));
        }
    }

    @Test
    void eachEpochIsOneRowWithConfigurationAndProvenance() {
        List<Row> rows = SqlCommand.query(TestSpark.get(), metrics,
                "SELECT * FROM metrics WHERE run_id = 'e2e-scratch'").collectAsList();
        assertEquals(1, rows.size());
        Row r = rows.get(0);
        assertEquals(1, r.getInt(r.fieldIndex("epoch")));
        assertEquals(2560, r.getInt(r.fieldIndex("train_examples")));
        assertEquals(1000, r.getInt(r.fieldIndex("test_examples")));
        assertEquals(2, r.getInt(r.fieldIndex("workers")));
        assertEquals(128, r.getInt(r.fieldIndex("per_worker_batch_size")));
        assertEquals("resident", r.getString(r.fieldIndex("training_master")));
        assertEquals("local[2]", r.getString(r.fieldIndex("master")));
        assertEquals("c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
                r.getString(r.fieldIndex("train_images_sha256")));
        assertTrue(r.getBoolean(r.fieldIndex("data_official")));
        double loss = r.getDouble(r.fieldIndex("train_loss"));
        double trainAcc = r.getDouble(r.fieldIndex("train_acc"));
        double testAcc = r.getDouble(r.fieldIndex("test_acc"));
        // 10 steps of SGD on 2,560 examples: far from converged, but clearly learning (chance is 0.1, ln 10 = 2.30)
        assertTrue(loss > 0.3 && loss < 2.3, "train loss " + loss);
        assertTrue(trainAcc > 0.15 && trainAcc < 1.0, "train acc " + trainAcc);
        assertTrue(testAcc > 0.2, "test acc " + testAcc);
        assertEquals(2560, r.getDouble(r.fieldIndex("examples_per_second")) * r.getDouble(r.fieldIndex(
                "train_seconds")), 0.01, "every training example trained once in the epoch");
    }

    @Test
    void theStockTrainingMasterRunsTheSameJob() {
        Row r = SqlCommand.query(TestSpark.get(), metrics,
                "SELECT train_loss, test_acc, training_master, step, examples_per_second * train_seconds, layers,"
                        + " dropouts FROM metrics WHERE run_id = 'e2e-stock'").first();
        assertEquals("stock", r.getString(2));
        assertEquals(List.of(784, 64, 32, 10), r.getList(5), "another shape, by DL4J's own master too");
        assertEquals(List.of(0.2, 0.5), r.getList(6));
        assertEquals("dl4j", r.getString(3));
        assertEquals(2560, r.getDouble(4), 0.01, "every training example trained once in the epoch");
        assertTrue(r.getDouble(0) < 2.31 && r.getDouble(1) > 0.1, r.toString());
    }

    @Test
    void classMetricsHoldTenClassesThatSumToTheTestSet() {
        Dataset<Row> c = SqlCommand.query(TestSpark.get(), metrics,
                "SELECT label, class_name, support, predicted_counts FROM class_metrics"
                        + " WHERE run_id = 'e2e-scratch' ORDER BY label");
        List<Row> rows = c.collectAsList();
        assertEquals(10, rows.size());
        assertEquals("T-shirt/top", rows.get(0).getString(1));
        assertEquals("Ankle boot", rows.get(9).getString(1));
        long total = 0;
        for (Row r : rows) {
            List<Long> counts = r.getList(3);
            assertEquals(r.getLong(2), counts.stream().mapToLong(Long::longValue).sum(), "row sums = support");
            total += r.getLong(2);
        }
        assertEquals(1000, total);
    }

    @Test
    void sqlPrintsAlignedTablesCsvAndJson() {
        Dataset<Row> q = SqlCommand.query(TestSpark.get(), metrics,
                "SELECT run_id, epoch, round(test_acc, 2) AS acc FROM metrics ORDER BY run_id");
        String table = print(q, "table");
        String[] lines = table.split("\n");
        assertTrue(lines[0].matches("run_id +epoch +acc"), lines[0]);
        assertTrue(lines[1].matches("-+  -+  -+"), lines[1]);
        assertEquals(lines[0].indexOf("epoch") + "epoch".length(), lines[2].indexOf(" 1 ") + 2,
                "numbers right-aligned under their header: " + lines[2]);
        assertTrue(table.endsWith("(2 rows)\n"), table);
        String csv = print(q, "csv");
        assertTrue(csv.startsWith("run_id,epoch,acc\ne2e-scratch,1,"), csv);
        assertEquals(3, csv.split("\n").length);
        String json = print(q, "json");
        assertTrue(json.startsWith("{\"run_id\":\"e2e-scratch\",\"epoch\":1,\"acc\":"), json);
    }

    @Test
    void aBadQueryIsAOneLineError() {
        for (String bad : new String[]{"SELEC 1", "SELECT * FROM nope"}) {
            String msg = org.junit.jupiter.api.Assertions.assertThrows(
                    io.github.sparkdropout.config.UsageException.class,
                    () -> SqlCommand.query(TestSpark.get(), metrics, bad)).getMessage();
            assertTrue(msg.startsWith("query rejected: [") && !msg.contains("\n"), msg);
        }
    }

    @Test
    void plotDrawsOneSeriesPerMetricAndRun() throws Exception {
        SparkSession spark = TestSpark.get();
        MetricsTable table = new MetricsTable(spark, metrics);
        Path one = dir.resolve("one.png");
        assertEquals(3, CurvePlot.write(spark, table, List.of("e2e-scratch"), one.toString()));
        BufferedImage img = ImageIO.read(one.toFile());
        assertEquals(CurvePlot.WIDTH, img.getWidth());
        assertEquals(CurvePlot.HEIGHT, img.getHeight());
        byte[] head = Files.readAllBytes(one);
        assertEquals((byte) 0x89, head[0]);
        assertEquals('P', head[1]);
        // the run drew its figure from the epochs it trained, without reading the table: the same picture
        assertTrue(java.util.Arrays.equals(head, Files.readAllBytes(Path.of(metrics, "plots", "e2e-scratch.png"))),
                "the run's own plot equals the one drawn from the table");
        Path two = dir.resolve("two.png");
        assertEquals(6, CurvePlot.write(spark, table, List.of("e2e-scratch", "e2e-stock"), two.toString()));
        assertTrue(Files.size(two) > 1000);
    }

    private static String print(Dataset<Row> q, String format) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        SqlCommand.print(q, format, new PrintStream(bytes, true));
        return bytes.toString();
    }
}
