package io.github.sparkdropout.metrics;

import io.github.sparkdropout.config.UsageException;
import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.data.FashionMnist;
import io.github.sparkdropout.model.MlpShape;
import io.github.sparkdropout.fs.Protection;
import io.github.sparkdropout.fs.Renames;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.RowFactory;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FSError;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

/**
 * The book's training-curve figure (train loss, train acc, test acc against epoch) for one or more runs of the
 * metrics table, as a PNG written through Hadoop FS (local path or any Hadoop URI).
 */
public final class CurvePlot {
    public static final int WIDTH = 900;
    public static final int HEIGHT = 560;
    private static final String[] METRICS = {"train_loss", "train_acc", "test_acc"};
    private static final String[] LABELS = {"train loss", "train acc", "test acc"};
    private static final BasicStroke[] STROKES = {SeriesLines.SOLID, SeriesLines.DASH_DASH, SeriesLines.DOT_DOT};
    /** One colour per run when several runs overlay (line style then tells the metric). */
    private static final java.awt.Color[] RUN_COLORS = {new java.awt.Color(0x1f77b4), new java.awt.Color(0xd62728),
            new java.awt.Color(0x2ca02c), new java.awt.Color(0x9467bd), new java.awt.Color(0xff7f0e),
            new java.awt.Color(0x8c564b), new java.awt.Color(0xe377c2), new java.awt.Color(0x7f7f7f)};

    private CurvePlot() {
    }

    /** Renders the runs' curves to {@code out}; returns the number of series drawn. */
    public static int write(SparkSession spark, MetricsTable table, List<String> runIds, String out) {
        System.setProperty("java.awt.headless", "true");
        Dataset<Row> rows = table.read(MetricsTable.EPOCHS)
                .where(col("run_id").isin(runIds.toArray()))
                .select(col("run_id"), col("epoch"), col("train_loss"), col("train_acc"), col("test_acc"),
                        col("variant"), col("workers"), col("batch_size"), col("averaging_frequency"), col("lr"),
                        // rows written before --layers and --dropouts: the book's network, its two probabilities
                        coalesce(col("layers"), array(lit(FashionMnist.PIXELS), lit(MlpShape.BOOK_HIDDEN[0]),
                                lit(MlpShape.BOOK_HIDDEN[1]), lit(FashionMnist.CLASSES))),
                        coalesce(col("dropouts"), array(col("dropout1"), col("dropout2"))), col("epochs"))
                .orderBy("run_id", "epoch");
        Map<String, List<Row>> byRun = new LinkedHashMap<>();
        for (String id : runIds) {
            byRun.put(id, new ArrayList<>());
        }
        for (Row r : rows.collectAsList()) {
            byRun.get(r.getString(0)).add(r);
        }
        for (Map.Entry<String, List<Row>> e : byRun.entrySet()) {
            if (e.getValue().isEmpty()) {
                throw new UsageException("run id '" + e.getKey() + "' has no rows in " + table.tablePath(
                        MetricsTable.EPOCHS));
            }
        }
        return render(byRun, out, spark.sparkContext().hadoopConfiguration());
    }

    /**
     * The curves of run {@code runId} ({@code config}) from the epochs this process trained, all of the run's:
     * the figure a finished run draws without reading the table back (a Spark job and a Parquet scan).
     */
    public static int write(String runId, TrainConfig config, List<EpochRecord> epochs, String out,
                            Configuration hadoop) {
        System.setProperty("java.awt.headless", "true");
        List<Row> rows = new ArrayList<>();
        for (EpochRecord e : epochs) {
            rows.add(RowFactory.create(runId, e.epoch(), e.trainLoss(), e.trainAcc(), e.testAcc(),
                    config.variant().name().toLowerCase(Locale.ROOT), config.workers(), config.batchSize(),
                    config.averagingFrequency(), config.lr(), Arrays.stream(config.layers()).boxed().toList(),
                    Arrays.stream(config.dropouts()).boxed().toList(), config.epochs()));
        }
        Map<String, List<Row>> byRun = new LinkedHashMap<>();
        byRun.put(runId, rows);
        return render(byRun, out, hadoop);
    }

    /**
     * Writes the figure to {@code out}: to a hidden file beside it first, renamed over {@code out} once whole, so a
     * failed write (a full disk) leaves no truncated PNG and an earlier figure stays until the new one is complete.
     */
    private static int render(Map<String, List<Row>> byRun, String out, Configuration hadoop) {
        XYChart chart = chart(byRun);
        Path path = new Path(out);
        Path partial = new Path(path.getParent(), "." + path.getName() + "." + UUID.randomUUID() + ".partial");
        FileSystem fs = null;
        try {
            byte[] png = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
            fs = path.getFileSystem(hadoop);
            if (fs instanceof org.apache.hadoop.fs.LocalFileSystem) {
                fs = ((org.apache.hadoop.fs.LocalFileSystem) fs).getRaw(); // a PNG for people: no .crc beside it
            }
            if (path.getParent() != null && !Protection.mkdirs(fs, path.getParent())) {
                throw new IOException("cannot create " + path.getParent());
            }
            try (FSDataOutputStream s = fs.create(partial, Protection.file(fs), false, 1 << 16,
                    fs.getDefaultReplication(partial), fs.getDefaultBlockSize(partial), null)) {
                s.write(png);
            }
            Renames.replace(fs, partial, path);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(out + ": cannot write the plot: " + e.getMessage(), e);
        } catch (FSError e) { // a failed local write (ENOSPC, EIO)
            IOException cause = Renames.writeFailure(e);
            throw new java.io.UncheckedIOException(out + ": cannot write the plot: " + cause.getMessage(), cause);
        } finally {
            if (fs != null) {
                try {
                    fs.delete(partial, false);
                } catch (IOException | FSError ignored) {
                    // hidden by its leading dot
                }
            }
        }
        return chart.getSeriesMap().size();
    }

    /** Column {@code i} of {@code r}, an array: a Java list in the rows drawn in-process, a Scala one in Spark's. */
    private static String joined(Row r, int i, String separator) {
        List<?> values = r.get(i) instanceof List<?> list ? list : r.getList(i);
        return values.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(separator));
    }

    static XYChart chart(Map<String, List<Row>> byRun) {
        Row first = byRun.values().iterator().next().get(0);
        String title = byRun.size() == 1
                ? String.format(Locale.ROOT, "%s: %s %s, %d workers, batch %d, avg every %d, lr %s, dropout %s",
                first.getString(0), first.getString(5), joined(first, 10, "-"), first.getInt(6),
                first.getInt(7), first.getInt(8), first.getDouble(9), joined(first, 11, "/"))
                : "Training curves of " + byRun.size() + " runs";
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("epoch")
                .yAxisTitle("loss / accuracy").build();
        int maxEpoch = 1;
        double maxY = 1.0;
        for (List<Row> rows : byRun.values()) {
            for (Row r : rows) {
                maxEpoch = Math.max(maxEpoch, r.getInt(1));
                maxY = Math.max(maxY, r.getDouble(2));
            }
        }
        chart.getStyler().setXAxisMin(1.0).setXAxisMax((double) maxEpoch).setYAxisMin(0.0)
                .setYAxisMax(Math.min(Math.ceil(maxY * 10) / 10, 5.0)).setXAxisDecimalPattern("0")
                .setLegendVisible(true).setChartTitleFont(new java.awt.Font(java.awt.Font.SANS_SERIF,
                        java.awt.Font.PLAIN, 13));
        int run = 0;
        for (Map.Entry<String, List<Row>> e : byRun.entrySet()) {
            List<Row> rows = e.getValue();
            java.awt.Color color = RUN_COLORS[run++ % RUN_COLORS.length];
            double[] x = new double[rows.size()];
            for (int i = 0; i < x.length; i++) {
                x[i] = rows.get(i).getInt(1);
            }
            for (int m = 0; m < METRICS.length; m++) {
                double[] y = new double[rows.size()];
                for (int i = 0; i < y.length; i++) {
                    y[i] = rows.get(i).getDouble(2 + m);
                }
                if (java.util.Arrays.stream(y).allMatch(Double::isNaN)) {
                    continue; // trained without evaluation data (an Estimator fit without a validation set)
                }
                String name = byRun.size() == 1 ? LABELS[m] : e.getKey() + " " + LABELS[m];
                XYSeries s = chart.addSeries(name, x, y);
                s.setLineStyle(STROKES[m]);
                s.setMarker(SeriesMarkers.CIRCLE);
                if (byRun.size() > 1) {
                    s.setLineColor(color);
                    s.setMarkerColor(color);
                }
            }
        }
        return chart;
    }
}
