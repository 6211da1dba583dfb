package io.github.sparkdropout.train.transport;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;

import java.io.Serializable;

/**
 * Work each worker task does at the end of a barrier epoch, on its replica holding the epoch's final parameters
 * and its partition of a second dataset (the test shards: evaluation), so that work needs no Spark job of its own.
 * It runs in the executors and travels with the tasks, hence serialisable; it must not change {@code net}.
 */
@FunctionalInterface
public interface EpochEndTask extends Serializable {
    /** The partition's result (serialisable: it returns to the driver), or null for nothing. */
    Serializable run(MultiLayerNetwork net, DataSet data);
}
