package io.github.sparkdropout.train.transport;

import io.github.sparkdropout.model.ParamVectors;
import io.github.sparkdropout.train.aggregate.Contribution;
import io.github.sparkdropout.train.aggregate.ParameterAveraging;
import io.github.sparkdropout.train.stats.RoundListener;
import io.github.sparkdropout.train.worker.ResidentWorker;
import io.github.sparkdropout.train.worker.WorkerSpec;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

import java.util.Collections;
import java.util.Iterator;
import java.util.List;

/**
 * Replicas meet through one ordinary Spark job per averaging round: each worker starts from the broadcast mean,
 * trains the round and returns its parameters; the driver averages them. Works with any number of executors and
 * under dynamic allocation; costs a Spark job's scheduling per round.
 */
public final class JobsTransport {
    private JobsTransport() {
    }

    /** One epoch of {@code rounds} rounds from {@code start}; returns the final mean (null: no one trained). */
    public static float[] trainEpoch(JavaSparkContext sc, JavaRDD<DataSet> shards, WorkerSpec spec, float[] start,
                                     int rounds, long examplesTotal, RoundListener listener) {
        float[] params = start;
        long done = 0;
        ParameterAveraging averaging = new ParameterAveraging();
        for (int round = 0; round < rounds; round++) {
            Broadcast<float[]> roundStart = sc.broadcast(params);
            List<Contribution> contributions;
            try {
                contributions = shards.mapPartitionsWithIndex(new RoundTask(spec, roundStart, round), true).collect();
            } finally {
                roundStart.destroy();
            }
            INDArray mean = averaging.mean(contributions);
            if (mean != null) {
                params = ParamVectors.toFloats(mean);
            }
            done += ParameterAveraging.examples(contributions);
            listener.roundDone(round + 1, rounds, done, examplesTotal);
        }
        return params;
    }

    /** One worker's part of one round; runs in the executor. */
    private record RoundTask(WorkerSpec spec, Broadcast<float[]> start, int round)
            implements Function2<Integer, Iterator<DataSet>, Iterator<Contribution>> {
        @Override
        public Iterator<Contribution> call(Integer partition, Iterator<DataSet> it) {
            if (!it.hasNext()) {
                return Collections.emptyIterator();
            }
            long t0 = System.nanoTime();
            ResidentWorker worker = new ResidentWorker(spec, partition, it.next(), start.value());
            Contribution c = worker.trainRound(round);
            spec.stats().addWorkerNanos(System.nanoTime() - t0);
            return Collections.singletonList(c).iterator();
        }
    }
}
