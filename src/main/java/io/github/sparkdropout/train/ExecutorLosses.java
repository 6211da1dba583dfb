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

    /**
     * As {@link #since}, after waiting up to {@code millis} for the listener bus, which delivers events after the
     * scheduler acts on them: a stage aborted for a lost executor can reach the driver before its removal event.
     */
    String since(int mark, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        String s = since(mark);
        while (s == null && System.nanoTime() < deadline) {
            Thread.sleep(50);
            s = since(mark);
        }
        return s;
    }

    public void stop(SparkContext sc) {
        sc.removeSparkListener(this);
    }
}
