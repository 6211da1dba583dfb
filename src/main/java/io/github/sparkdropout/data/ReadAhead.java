package io.github.sparkdropout.data;

import io.github.sparkdropout.concurrent.DaemonTask;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;

/**
 * A local {@code --data} directory's training and test splits, read and checked on a daemon thread while Spark
 * starts: the two then run at once, mostly on different cores. Only where the path is on the local filesystem as
 * Hadoop's default configuration sees it; the job takes the splits only if its own (the session's) configuration
 * agrees and it asks for the same files and limits, else it reads them itself.
 */
public final class ReadAhead {
    private final String dir;
    private final int trainLimit;
    private final int testLimit;
    private DaemonTask<Splits> reading; // null once taken: the splits are the job's then, not held here too

    /** A run's two splits. */
    public record Splits(FashionMnist.Split train, FashionMnist.Split test) {
    }

    private ReadAhead(String dir, int trainLimit, int testLimit, Configuration conf) {
        this.dir = dir;
        this.trainLimit = trainLimit;
        this.testLimit = testLimit;
        this.reading = DaemonTask.start("sparkdropout-read-ahead", () -> new Splits(
                FashionMnist.train(dir, trainLimit, conf), FashionMnist.test(dir, testLimit, conf)));
    }

    /** Starts reading {@code dir}'s splits if it is a local directory; null if not (the job reads it itself). */
    public static ReadAhead start(String dir, int trainLimit, int testLimit) {
        Configuration conf = new Configuration();
        if (!isLocal(dir, conf)) {
            return null;
        }
        return new ReadAhead(dir, trainLimit, testLimit, conf);
    }

    /**
     * The splits read ahead if they are the ones asked for, as the job's {@code conf} sees the path; null if not
     * (read them now). Bad input fails here with the {@link DataException} reading it now would give. Only the first
     * call gets them.
     */
    public Splits take(String dir, int trainLimit, int testLimit, Configuration conf) {
        if (reading == null) { // taken already: the job reads them itself
            return null;
        }
        DaemonTask<Splits> task = reading;
        reading = null;
        if (!this.dir.equals(dir) || this.trainLimit != trainLimit || this.testLimit != testLimit
                || !isLocal(dir, conf)) {
            task.cancel();
            return null;
        }
        return task.join("reading " + dir);
    }

    private static boolean isLocal(String dir, Configuration conf) {
        try {
            return new Path(dir).getFileSystem(conf) instanceof LocalFileSystem;
        } catch (IOException | IllegalArgumentException e) { // not a path Hadoop can resolve: the job says why
            return false;
        }
    }
}
