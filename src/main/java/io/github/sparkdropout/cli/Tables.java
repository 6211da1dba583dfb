package io.github.sparkdropout.cli;

import org.apache.spark.sql.Row;

import java.util.List;

/** Aligned text tables: numbers right-aligned, doubles to 4 decimals, everything else left-aligned. */
final class Tables {
    private Tables() {
    }

    static String format(String[] header, List<Row> rows) {
        int cols = header.length;
        String[][] cells = new String[rows.size()][cols];
        boolean[] numeric = new boolean[cols];
        int[] width = new int[cols];
        for (int c = 0; c < cols; c++) {
            width[c] = header[c].length();
            numeric[c] = true;
        }
        for (int r = 0; r < rows.size(); r++) {
            for (int c = 0; c < cols; c++) {
                Object v = rows.get(r).get(c);
                cells[r][c] = cell(v);
                numeric[c] &= v == null || v instanceof Number;
                width[c] = Math.max(width[c], cells[r][c].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        line(sb, header, width, numeric);
        StringBuilder rule = new StringBuilder();
        for (int c = 0; c < cols; c++) {
            rule.append(c == 0 ? "" : "  ").append("-".repeat(width[c]));
        }
        sb.append(rule).append('\n');
        for (String[] row : cells) {
            line(sb, row, width, numeric);
        }
        return sb.toString();
    }

    private static void line(StringBuilder sb, String[] cells, int[] width, boolean[] numeric) {
        StringBuilder l = new StringBuilder();
        for (int c = 0; c < cells.length; c++) {
            String fmt = "%" + (numeric[c] ? "" : "-") + width[c] + "s";
            l.append(c == 0 ? "" : "  ").append(String.format(fmt, cells[c]));
        }
        sb.append(l.toString().stripTrailing()).append('\n');
    }

    static String cell(Object v) {
        if (v == null) {
            return "NULL";
        }
        if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            return Double.isNaN(d) ? "NaN" : String.format("%.4f", d);
        }
        if (v instanceof scala.collection.Seq) {
            StringBuilder sb = new StringBuilder("[");
            scala.collection.Iterator<?> it = ((scala.collection.Seq<?>) v).iterator();
            while (it.hasNext()) {
                sb.append(cell(it.next())).append(it.hasNext() ? ", " : "");
            }
            return sb.append(']').toString();
        }
        return v.toString();
    }
}
