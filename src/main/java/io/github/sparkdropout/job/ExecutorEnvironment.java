package io.github.sparkdropout.job;

import io.github.sparkdropout.model.HostBlas;
import org.apache.spark.api.java.JavaRDD;
import org.nd4j.linalg.factory.Nd4j;

import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * What the workers run on, as reported by the executors themselves (on a cluster the driver's own environment
 * says nothing about theirs): host, ND4J backend, the OpenBLAS kernel set the executor's OpenBLAS itself reports.
 */
final class ExecutorEnvironment {
    private ExecutorEnvironment() {
    }

    /** One worker's view. */
    record Worker(String host, String backend, String openBlasKernels) implements Serializable {
    }

    /** e.g. "workers on 127.0.0.1: ND4J CpuBackend, OpenBLAS kernels Zen (auto-detected)". */
    static String of(JavaRDD<?> shards) {
        List<Worker> workers = shards.mapPartitions(it -> List.of(new Worker(
                java.net.InetAddress.getLocalHost().getHostName(), Nd4j.getBackend().getClass().getSimpleName(),
                HostBlas.kernels())).iterator()).collect();
        return describe(workers);
    }

    static String describe(List<Worker> workers) {
        Map<String, Long> hosts = new TreeMap<>(workers.stream().collect(
                Collectors.groupingBy(Worker::host, Collectors.counting())));
        String where = hosts.entrySet().stream().map(e -> e.getKey() + (hosts.size() > 1 ? " x" + e.getValue() : ""))
                .collect(Collectors.joining(", "));
        String backends = workers.stream().map(Worker::backend).distinct().sorted().collect(Collectors.joining("/"));
        String kernels = workers.stream().map(Worker::openBlasKernels).distinct().sorted()
                .collect(Collectors.joining("/"));
        return "workers on " + where + ": ND4J " + backends + ", OpenBLAS kernels " + kernels;
    }
}
