package io.github.sparkdropout.cli;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.util.List;

/** Tests in other packages query the views exactly as {@code submit.sh sql} registers them. */
public final class SqlAccess {
    private SqlAccess() {
    }

    public static List<Row> query(SparkSession spark, String metrics, String sql) {
        return SqlCommand.query(spark, metrics, sql).collectAsList();
    }
}
