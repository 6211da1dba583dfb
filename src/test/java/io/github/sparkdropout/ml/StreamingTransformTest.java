package io.github.sparkdropout.ml;

import io.github.sparkdropout.TestSpark;
import io.github.sparkdropout.data.DataException;
import io.github.sparkdropout.model.DropoutMlp;
import io.github.sparkdropout.model.Variant;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryException;
import org.apache.spark.sql.streaming.Trigger;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code transform} on a streaming frame (Structured Streaming): a file source of Parquet rows, scored, into a
 * Parquet sink with a checkpoint. The query is stopped part-way and started again from its checkpoint; every input
 * row comes out exactly once, scored as a batch {@code transform} of the same rows scores it.
 */
class StreamingTransformTest {
    static final StructType SCHEMA = new StructType().add("id", DataTypes.LongType, true)
            .add("label", DataTypes.DoubleType, true)
            .add("features", SQLDataTypes.VectorType(), true);
    static final int ROWS_PER_FILE = 40;
    static SparkSession spark;
    static DropoutMlpModel model;

    @TempDir
    Path dir;

    @BeforeAll
    static void anUntrainedModel() {
        spark = TestSpark.get();
        model = DropoutMlpModel.ofJobNetwork("streams", DropoutMlp.create(Variant.CONCISE, 0.5,
                io.github.sparkdropout.model.MlpShape.book(0.2, 0.5), 11));
    }

    /** {@code ROWS_PER_FILE} rows with ids from {@code firstId}: random pixels in [0, 1], some of them all 0 or 1. */
    static List<Row> rows(long firstId, Random rnd) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < ROWS_PER_FILE; i++) {
            double[] px = new double[784];
            for (int j = 0; j < px.length; j++) {
                px[j] = i % 7 == 0 ? i % 2 : rnd.nextDouble();
            }
            rows.add(RowFactory.create(firstId + i, (double) (i % 10), Vectors.dense(px)));
        }
        return rows;
    }

    /**
     * Writes {@code rows} as ONE Parquet file into {@code source}, as a streaming file source expects files to
     * arrive: whole, by a rename (written elsewhere first).
     */
    static void arrive(List<Row> rows, Path source, String name, Path scratch) throws IOException {
        Path staging = scratch.resolve("staging-" + name);
        spark.createDataFrame(rows, SCHEMA).coalesce(1).write().parquet(staging.toString());
        Path part;
        try (Stream<Path> files = Files.list(staging)) {
            part = files.filter(f -> f.getFileName().toString().startsWith("part-")).findFirst().orElseThrow();
        }
        Files.createDirectories(source);
        Files.move(part, source.resolve(name + ".parquet"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** One file per micro-batch, the next as soon as one ends (or every {@code trigger}). */
    static StreamingQuery start(Path source, Path sink, Path checkpoint, Trigger trigger) throws TimeoutException {
        Dataset<Row> stream = spark.readStream().schema(SCHEMA).option("maxFilesPerTrigger", 1)
                .parquet(source.toString());
        return model.transform(stream).writeStream().format("parquet").trigger(trigger)
                .option("checkpointLocation", checkpoint.toString()).start(sink.toString());
    }

    static StreamingQuery start(Path source, Path sink, Path checkpoint) throws TimeoutException {
        return start(source, sink, checkpoint, Trigger.ProcessingTime(0));
    }

    @Test
    void aStoppedAndRestartedQueryScoresEveryRowExactlyOnceAsABatchTransformDoes() throws Exception {
        Path source = dir.resolve("source");
        Path sink = dir.resolve("sink");
        Path checkpoint = dir.resolve("checkpoint");
        Random rnd = new Random(3);
        int files = 0;
        for (; files < 4; files++) {
            arrive(rows(files * 1000L, rnd), source, "batch-" + files, dir);
        }

        // the first micro-batch at once, the next in an hour: stopped after one file of the four
        StreamingQuery first = start(source, sink, checkpoint, Trigger.ProcessingTime(1, TimeUnit.HOURS));
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (first.recentProgress().length == 0) {
            assertTrue(first.isActive(), () -> "the query ended: " + first.exception());
            assertTrue(System.nanoTime() < deadline, "no micro-batch in 60 s");
            Thread.sleep(20);
        }
        first.stop();
        assertFalse(first.exception().isDefined(), () -> "stopped, not failed: " + first.exception());
        assertEquals(ROWS_PER_FILE, first.lastProgress().numInputRows());
        assertEquals(ROWS_PER_FILE, spark.read().parquet(sink.toString()).count(), "one file scored, three to do");

        for (; files < 7; files++) {
            arrive(rows(files * 1000L, rnd), source, "batch-" + files, dir);
        }
        StreamingQuery again = start(source, sink, checkpoint);
        try {
            again.processAllAvailable();
            arrive(rows(files * 1000L, rnd), source, "batch-" + files++, dir);
            again.processAllAvailable();
        } finally {
            again.stop();
        }
        assertFalse(again.exception().isDefined(), () -> "stopped, not failed: " + again.exception());

        Map<Long, Row> streamed = new HashMap<>();
        for (Row r : spark.read().parquet(sink.toString()).select("id", "prediction", "probability", "rawPrediction",
                "featuresOutOfRange").collectAsList()) {
            assertTrue(streamed.put(r.getLong(0), r) == null, "id " + r.getLong(0) + " scored more than once");
        }
        assertEquals(files * ROWS_PER_FILE, streamed.size(), "every input row scored");

        // each file read as a batch frame: the same rows, in the same batches, as its micro-batch
        for (int f = 0; f < files; f++) {
            Dataset<Row> batch = spark.read().schema(SCHEMA).parquet(source.resolve("batch-" + f + ".parquet")
                    .toString());
            for (Row b : model.transform(batch).select("id", "prediction", "probability", "rawPrediction",
                    "featuresOutOfRange").collectAsList()) {
                Row s = streamed.get(b.getLong(0));
                assertTrue(s != null, "id " + b.getLong(0) + " not in the sink");
                assertEquals(b.getDouble(1), s.getDouble(1), "prediction of id " + b.getLong(0));
                assertArrayEquals(((Vector) b.get(2)).toArray(), ((Vector) s.get(2)).toArray(),
                        "probability of id " + b.getLong(0));
                assertArrayEquals(((Vector) b.get(3)).toArray(), ((Vector) s.get(3)).toArray(),
                        "rawPrediction of id " + b.getLong(0));
                assertEquals(b.getBoolean(4), s.getBoolean(4), "featuresOutOfRange of id " + b.getLong(0));
            }
        }
    }

    @Test
    void aStreamingFrameHasTheSchemaTransformSchemaSays() throws IOException {
        Dataset<Row> stream = spark.readStream().schema(SCHEMA).parquet(Files.createDirectories(dir.resolve("empty"))
                .toString());
        Dataset<Row> scored = model.transform(stream);
        assertTrue(scored.isStreaming());
        assertEquals(model.transformSchema(stream.schema()), scored.schema());
        for (String output : new String[]{"rawPrediction", "probability", "prediction", "featuresOutOfRange"}) {
            assertFalse(scored.schema().apply(output).nullable(), output + " is never null");
        }
    }

    @Test
    void aBadRowFailsTheQueryWithOneLineNamingTheColumn() throws Exception {
        Path source = dir.resolve("source");
        List<Row> rows = rows(0, new Random(5));
        double[] px = ((Vector) rows.get(17).get(2)).toArray();
        px[11] = Double.NaN;
        rows.set(17, RowFactory.create(17L, 7.0, Vectors.dense(px)));
        arrive(rows, source, "bad", dir);

        StreamingQuery query = start(source, dir.resolve("sink"), dir.resolve("checkpoint"));
        try {
            StreamingQueryException e = assertThrows(StreamingQueryException.class, query::processAllAvailable);
            DataException d = TransformChecksTest.dataException(e);
            assertEquals("column 'features' holds NaN at position 11: the features must be finite numbers",
                    d.getMessage());
        } finally {
            query.stop();
        }
    }
}
