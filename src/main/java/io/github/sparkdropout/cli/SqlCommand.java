package io.github.sparkdropout.cli;

import io.github.sparkdropout.config.UsageException;
import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.metrics.MetricsTable;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.PrintStream;
import java.util.List;
import java.util.Set;

/**
 * {@code sql "QUERY" [--metrics DIR] [--format table|csv|json]}: Spark SQL over the metrics tables, which are
 * registered as the views {@code metrics} (one row per run and epoch) and {@code class_metrics} (per class), and
 * {@code predictions} (every {@code predict --out} under DIR/predictions/).
 */
final class SqlCommand {
    private SqlCommand() {
    }

    static int run(String[] argv) {
        Args args = Args.parse(argv, Set.of(), Set.of());
        if (args.positional.size() != 1) {
            throw new UsageException("sql takes exactly one query, e.g. ./submit.sh sql \"SELECT * FROM metrics\"");
        }
        String location = args.options.remove("metrics");
        if (location == null) {
            location = TrainConfig.defaults().get(TrainConfig.METRICS.name());
        }
        String format = args.options.getOrDefault("format", "table");
        args.options.remove("format");
        if (!Set.of("table", "csv", "json").contains(format)) {
            throw new UsageException("--format " + format + " is not valid: expected table, csv or json");
        }
        if (!args.options.isEmpty()) {
            throw new UsageException("unknown option --" + args.options.keySet().iterator().next()
                    + " for sql (options: --metrics, --format)");
        }
        SparkSession spark = SparkSessions.get("dropout-mlp sql");
        try {
            Dataset<Row> result = query(spark, location, args.positional.get(0));
            print(result, format, System.out);
            return 0;
        } finally {
            spark.stop();
        }
    }

    /** Registers the views over {@code location} and runs {@code sql}. */
    static Dataset<Row> query(SparkSession spark, String location, String sql) {
        MetricsTable table = new MetricsTable(spark, location);
        table.read(MetricsTable.EPOCHS).createOrReplaceTempView("metrics");
        try {
            table.read(MetricsTable.CLASSES).createOrReplaceTempView("class_metrics");
        } catch (UsageException noClassRows) {
            // only epoch rows so far: class_metrics stays undefined
        }
        table.readPredictions().ifPresent(p -> p.createOrReplaceTempView("predictions"));
        try {
            return spark.sql(sql);
        } catch (Exception e) { // Scala throws AnalysisException (checked in Java) undeclared
            if (e instanceof AnalysisException) {
                String firstLine = e.getMessage().strip().lines().findFirst().orElse(e.getClass().getSimpleName());
                throw new UsageException("query rejected: " + firstLine);
            }
            throw e;
        }
    }

    static void print(Dataset<Row> result, String format, PrintStream out) {
        switch (format) {
            case "json":
                for (String line : result.toJSON().collectAsList()) {
                    out.println(line);
                }
                break;
            case "csv":
                out.println(String.join(",", result.columns()));
                for (Row r : result.collectAsList()) {
                    StringBuilder sb = new StringBuilder();
                    for (int i = 0; i < r.length(); i++) {
                        sb.append(i == 0 ? "" : ",").append(csv(r.get(i)));
                    }
                    out.println(sb);
                }
                break;
            default:
                List<Row> rows = result.collectAsList();
                out.print(Tables.format(result.columns(), rows));
                out.println("(" + rows.size() + " row" + (rows.size() == 1 ? "" : "s") + ")");
        }
    }

    private static String csv(Object v) {
        if (v == null) {
            return "";
        }
        String s = v instanceof scala.collection.Seq ? Tables.cell(v) : v.toString();
        if (s.contains(",") || s.contains("\"") || s.contains("\n")) {
            return "\"" + s.replace("\"", "\"\"") + "\"";
        }
        return s;
    }
}
