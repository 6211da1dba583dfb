package io.github.sparkdropout.spark;

/** One-line summaries of Spark's failures, whose first line often names only the stage, not what went wrong. */
public final class SparkFailures {
    private static final int MAX = 400;

    private SparkFailures() {
    }

    /**
     * The first line of the outermost message among {@code e} and its causes; when that line only says a job or
     * stage was aborted, with the failure's own first line (the task's exception) after it.
     */
    public static String summary(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                return summary(t.getMessage());
            }
        }
        return e.getClass().getSimpleName();
    }

    static String summary(String message) {
        String[] lines = message.strip().split("\n");
        String line = lines[0].strip();
        if (line.contains("Job aborted due to stage failure")) {
            for (int i = 1; i < lines.length; i++) {
                String next = lines[i].strip();
                if (!next.isEmpty() && !next.startsWith("at ") && !next.startsWith("Driver stacktrace")) {
                    line = line + " " + next;
                    break;
                }
            }
        }
        return line.length() > MAX ? line.substring(0, MAX) + "..." : line;
    }
}
