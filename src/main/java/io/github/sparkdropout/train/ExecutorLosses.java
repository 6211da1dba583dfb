package io.github.sparkdropout.train;

import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorAdded;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The executors the cluster took away during a training, from Spark's listener events: a failed epoch can then
 * say which worker went, not only that a stage failed.
 */
public final class ExecutorLosses extends SparkListener {
    private final Map<String, String> hosts = new ConcurrentHashMap<>();
    private final List<String> lost = new ArrayList<>();

    /** Starts listening on {@code sc} (before the executors register, to know their hosts). */
    public static ExecutorLosses listenOn(SparkContext sc) {
        ExecutorLosses l = new ExecutorLosses();
        sc.addSparkListener(l);
        return l;
    }

    @Override
    public void onExecutorAdded(SparkListenerExecutorAdded added) {
        hosts.put(added.executorId(), added.executorInfo().executorHost());
    }

    @Override
    public synchronized void onExecutorRemoved(SparkListenerExecutorRemoved removed) {
        String reason = removed.reason() == null ? "" : removed.reason().strip().lines().findFirst().orElse("");
        String host = hosts.get(removed.executorId());
        lost.add("executor " + removed.executorId() + (host == null ? "" : " on " + host) + " lost"
                + (reason.isEmpty() ? "" : " (" + reason + ")"));
    }

    /** How many losses have been seen so far (a mark to ask {@link #since} about). */
    synchronized int count() {
        return lost.size();
    }

    /** The losses seen after {@code mark}, in one line, or null if none. */
    synchronized String since(int mark) {
        return lost.size() <= mark ? null : String.join("; ", lost.subList(mark, lost.size()));
    }

    public void stop(SparkContext sc) {
        sc.removeSparkListener(this);
    }
}
