package io.github.sparkdropout;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code ./submit.sh} as a user runs it, in its own process (and whatever it starts): exit code, stdout, stderr.
 * A run that outlasts its time limit is killed with every process under it, and the test fails.
 */
public final class Submit {
    public record Result(int exit, String out, String err) {
        /** Both streams, for assertion messages. */
        public String both() {
            return "--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private final Map<String, String> env = new HashMap<>();
    private final List<String> sparkOptions = new ArrayList<>();
    private final Path logDir;

    /** Output files go to {@code logDir}. */
    public Submit(Path logDir) {
        this.logDir = logDir;
    }

    /** Sets ({@code value} non-null) or removes an environment variable of the runs. */
    public Submit env(String name, String value) {
        env.put(name, value);
        return this;
    }

    /** spark-submit options put before the command of every run. */
    public Submit sparkOptions(String... options) {
        sparkOptions.addAll(List.of(options));
        return this;
    }

    public Result run(String... args) throws IOException, InterruptedException {
        return run(10, args);
    }

    public Result run(int timeoutMinutes, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("./submit.sh"));
        cmd.addAll(sparkOptions);
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        for (Map.Entry<String, String> e : env.entrySet()) {
            if (e.getValue() == null) {
                pb.environment().remove(e.getKey());
            } else {
                pb.environment().put(e.getKey(), e.getValue());
            }
        }
        Files.createDirectories(logDir);
        Path out = Files.createTempFile(logDir, "out", ".txt");
        Path err = Files.createTempFile(logDir, "err", ".txt");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(timeoutMinutes, TimeUnit.MINUTES)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError("submit.sh " + String.join(" ", args) + " did not finish in " + timeoutMinutes
                    + " min; output in " + out + " and " + err);
        }
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    /** Kills every process this JVM started that is still running (cluster daemons, containers, drivers). */
    public static void killDescendants() {
        ProcessHandle.current().descendants().forEach(ProcessHandle::destroyForcibly);
    }
}
