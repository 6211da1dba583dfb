package io.github.sparkdropout.metrics;

import io.github.sparkdropout.Deployments;
import io.github.sparkdropout.TestSpark;
import io.github.sparkdropout.config.UsageException;
import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.data.FashionMnist;
import io.github.sparkdropout.eval.EvalResult;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MetricsTableTest {
    @TempDir
    Path dir;

    static RunInfo run(String id) {
        TrainConfig c = TrainConfig.of(Map.of("run-id", id)).resolve(Deployments.of(2, 2, 2), "x").withSyncFor(Deployments.withSlots(2, false));
        FashionMnist.Split s = new FashionMnist.Split("train", 3, new byte[3 * 784], new byte[3], "a", "b", false);
        return new RunInfo(id, new Timestamp(0), c, "local[2]", 1, "app", "3.5.9", "0.1.0", "abc", s, s, "m/" + id);
    }

    static EvalResult eval() {
        long[][] confusion = new long[10][10];
        confusion[1][1] = 3;
        double[] z = new double[10];
        return new EvalResult(1.0, 3, z, z, z, new long[10], confusion);
    }

    static void append(MetricsTable t, String id, int epoch) {
        EpochRecord e = new EpochRecord(epoch, 1.0 / epoch, 0.5, 0.6, 1.5, 0.2, 100, 1.2, new Timestamp(1000),
                new Timestamp(2000), "c/" + epoch);
        t.appendEpoch(MetricsSchema.epochRow(run(id), e), MetricsSchema.classRows(id, epoch, eval(), io.github.sparkdropout.data.FashionMnist.CLASS_NAMES), id, epoch);
    }

    /** The writer's warm-up writes a row of each table's schema (or the first real write would find out) and leaves nothing. */
    @Test
    void theWriterWarmUpWritesEachSchemaAndLeavesNothing() throws Exception {
        java.io.File tmp = new java.io.File(System.getProperty("java.io.tmpdir"));
        java.util.function.IntSupplier leftovers = () -> {
            String[] names = tmp.list((d, name) -> name.startsWith("sparkdropout-warm-up"));
            return names == null ? 0 : names.length;
        };
        int before = leftovers.getAsInt();
        MetricsTable.writeThrowawayFiles(TestSpark.get());
        assertEquals(before, leftovers.getAsInt());
    }

    @Test
    void appendsReadBackWithTheDocumentedSchema() {
        SparkSession spark = TestSpark.get();
        MetricsTable t = new MetricsTable(spark, dir.toString());
        assertEquals(0, t.recordedEpochs("r1"));
        append(t, "r1", 1);
        append(t, "r1", 2);
        List<Row> rows = t.read(MetricsTable.EPOCHS).orderBy("epoch").collectAsList();
        assertEquals(2, rows.size());
        assertEquals(MetricsSchema.EPOCHS.fieldNames().length, rows.get(0).length());
        assertEquals(0.5, rows.get(1).getDouble(rows.get(1).fieldIndex("train_loss")));
        assertEquals(66.666, rows.get(0).getDouble(rows.get(0).fieldIndex("examples_per_second")), 0.01);
        assertEquals("scratch", rows.get(0).getString(rows.get(0).fieldIndex("variant")));
        assertEquals(20, t.read(MetricsTable.CLASSES).count(), "10 classes x 2 epochs");
        assertEquals(2, t.recordedEpochs("r1"));
    }

    /**
     * The rows are written in the driver by Spark SQL's Parquet writer without a job: a reader that infers the
     * schema from the files (a stock {@code spark.read.parquet}) must see exactly the documented schema and the
     * rows as given, timestamps and the per-class count arrays included, and no Spark job may run for a write.
     */
    @Test
    void filesReadBackAsWrittenByAnyReaderAndNoJobRunsForAWrite() throws Exception {
        SparkSession spark = TestSpark.get();
        MetricsTable t = new MetricsTable(spark, dir.toString());
        org.apache.spark.scheduler.SparkListener counter;
        java.util.concurrent.atomic.AtomicInteger jobs = new java.util.concurrent.atomic.AtomicInteger();
        spark.sparkContext().addSparkListener(counter = new org.apache.spark.scheduler.SparkListener() {
            @Override
            public void onJobStart(org.apache.spark.scheduler.SparkListenerJobStart start) {
                jobs.incrementAndGet();
            }
        });
        try {
            append(t, "w", 1);
            spark.sparkContext().listenerBus().waitUntilEmpty();
            assertEquals(0, jobs.get(), "Spark jobs started by a metrics append");
        } finally {
            spark.sparkContext().removeSparkListener(counter);
        }
        EpochRecord e = new EpochRecord(1, 1.0, 0.5, 0.6, 1.5, 0.2, 100, 1.2, new Timestamp(1000),
                new Timestamp(2000), "c/1");
        org.apache.spark.sql.Dataset<Row> epochs = spark.read().parquet(dir.resolve("epochs").toString());
        assertEquals(columns(MetricsSchema.EPOCHS), columns(epochs.schema())); // file sources read every column nullable
        // as Spark gives the row back (arrays as Scala sequences)
        assertEquals(spark.createDataFrame(List.of(MetricsSchema.epochRow(run("w"), e)), MetricsSchema.EPOCHS)
                .collectAsList(), epochs.collectAsList());
        org.apache.spark.sql.Dataset<Row> classes = spark.read().parquet(dir.resolve("classes").toString())
                .orderBy("label");
        assertEquals(columns(MetricsSchema.CLASSES), columns(classes.schema()));
        List<Row> expected = MetricsSchema.classRows("w", 1, eval(), io.github.sparkdropout.data.FashionMnist.CLASS_NAMES);
        List<Row> got = classes.collectAsList();
        assertEquals(expected.size(), got.size());
        for (int i = 0; i < expected.size(); i++) {
            Row want = expected.get(i);
            Row row = got.get(i);
            for (int c = 0; c < want.length(); c++) {
                Object v = want.get(c);
                assertEquals(v instanceof Object[] a ? List.of(a) : v,
                        v instanceof Object[] ? row.getList(c) : row.get(c), "class row " + i + " column " + c);
            }
        }
    }

    private static List<String> columns(org.apache.spark.sql.types.StructType schema) {
        return java.util.Arrays.stream(schema.fields()).map(f -> f.name() + " " + f.dataType().catalogString())
                .toList();
    }

    @Test
    void filesWrittenBeforeAColumnExistedReadItAsNull() {
        SparkSession spark = TestSpark.get();
        MetricsTable t = new MetricsTable(spark, dir.toString());
        append(t, "new", 1);
        // a row as 0.1.0 wrote it: without the settings recorded since
        Path epochs = dir.resolve("epochs");
        spark.read().parquet(epochs.toString()).drop("threads_per_worker", "train_limit", "test_limit")
                .withColumn("run_id", org.apache.spark.sql.functions.lit("old")).coalesce(1).write().parquet(dir.resolve("old").toString());
        try (Stream<Path> parts = Files.list(dir.resolve("old"))) {
            Path part = parts.filter(p -> p.toString().endsWith(".parquet")).findFirst().orElseThrow();
            Files.move(part, epochs.resolve("old-epoch-0001.parquet"));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        List<Row> rows = t.read(MetricsTable.EPOCHS).orderBy("run_id").collectAsList();
        assertEquals(2, rows.size());
        assertTrue(rows.get(1).isNullAt(rows.get(1).fieldIndex("threads_per_worker")), "old row: null");
        assertEquals(1, rows.get(0).getInt(rows.get(0).fieldIndex("threads_per_worker")), "new row: recorded");
    }

    @Test
    void aRunIdAlreadyInTheTableIsRefused() {
        MetricsTable t = new MetricsTable(TestSpark.get(), dir.toString());
        append(t, "taken", 1);
        String msg = assertThrows(UsageException.class, () -> t.requireNewRun("taken")).getMessage();
        assertTrue(msg.contains("run id 'taken' already has 1 epoch"), msg);
        t.requireNewRun("fresh");
    }

    @Test
    void concurrentRunsBothKeepAllTheirRowsAndNoStagingIsLeft() throws Exception {
        MetricsTable t = new MetricsTable(TestSpark.get(), dir.toString());
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<?> a = pool.submit(() -> {
                for (int e = 1; e <= 5; e++) {
                    append(t, "runA", e);
                }
            });
            Future<?> b = pool.submit(() -> {
                for (int e = 1; e <= 5; e++) {
                    append(t, "runB", e);
                }
            });
            a.get();
            b.get();
        } finally {
            pool.shutdown();
        }
        assertEquals(5, t.read(MetricsTable.EPOCHS).where("run_id = 'runA'").count());
        assertEquals(5, t.read(MetricsTable.EPOCHS).where("run_id = 'runB'").count());
        try (Stream<Path> staged = Files.walk(dir)) {
            assertTrue(staged.noneMatch(p -> p.getFileName().toString().startsWith("part-")),
                    "only published files remain");
        }
    }

    @Test
    void aLocationThatCannotHoldTablesIsRefusedBeforeTraining() throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "not a directory");
        MetricsTable t = new MetricsTable(TestSpark.get(), file.resolve("metrics").toString());
        String msg = assertThrows(UsageException.class, () -> t.requireNewRun("r")).getMessage();
        assertTrue(msg.contains("cannot create the metrics tables") && !msg.contains("\n"), msg);
        assertEquals("not a directory", Files.readString(file), "nothing destroyed");
    }

    @Test
    void readingAnEmptyLocationIsAOneLineError() {
        MetricsTable t = new MetricsTable(TestSpark.get(), dir.resolve("none").toString());
        String msg = assertThrows(UsageException.class, () -> t.read(MetricsTable.EPOCHS)).getMessage();
        assertTrue(msg.startsWith("no metrics recorded in"), msg);
    }
}
