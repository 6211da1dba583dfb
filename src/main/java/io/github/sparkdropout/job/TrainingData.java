package io.github.sparkdropout.job;

import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.data.DataProvenance;
import org.apache.spark.api.java.JavaRDD;
import org.nd4j.linalg.dataset.DataSet;

import java.util.List;

/**
 * The data a run trains and evaluates on, in Spark: one cached shard per worker, and the evaluation shards (null:
 * none, each epoch's test accuracy is then NaN); what they hold; the classes' names by label (the classes table's
 * {@code class_name}); a note for the run's data line; and what frees the executors' memory they hold once the run
 * is over.
 */
public record TrainingData(JavaRDD<DataSet> trainShards, JavaRDD<DataSet> testShards, DataProvenance train,
                           DataProvenance test, List<String> classNames, String note, double loadSeconds,
                           Runnable release) {
    /** Puts a run's data into Spark, given its resolved settings (the worker count makes the shards). */
    public interface Source {
        TrainingData load(TrainConfig resolved);
    }
}
