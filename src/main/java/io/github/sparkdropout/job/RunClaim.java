package io.github.sparkdropout.job;

import io.github.sparkdropout.concurrent.DaemonThreads;
import io.github.sparkdropout.config.UsageException;
import io.github.sparkdropout.fs.Protection;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.ipc.RemoteException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one driver that may write a run: a claim taken before anything of the run is written, held while the command
 * runs, released when it ends. Two drivers never write one run at once; a claim whose driver died without releasing
 * it is recognised as dead and taken over, so it blocks nothing for long.
 *
 * <p>Layout: {@code METRICS/claims/RUN_ID/NNNNNNNNNN}, one file per claim, numbered. A claim is the file with the
 * highest number, created with overwrite off: an atomic create on HDFS (at the NameNode) and, through
 * {@code O_EXCL} (the JDK's {@code CREATE_NEW}) on the local filesystem, where Hadoop's own
 * create only checks first. It holds its holder ({@link Holder}: application id and attempt, host, process id and
 * start, when claimed); its modification time is the holder's heartbeat, refreshed every
 * {@link Timing#heartbeat()}. Releasing renames it to {@code NNNNNNNNNN.released}. To claim, a driver creates the
 * number after the highest; it then holds the run if no higher number appeared meanwhile. The highest number is never
 * deleted (only lower ones are, by the next holder), so a number that was once the highest is never taken twice and
 * a driver that looked at an older listing backs off.
 *
 * <p>The highest claim, unreleased, is dead when its holder is:
 * <ul>
 *   <li>an earlier attempt of this YARN application (same application id, another attempt): YARN starts a new
 *       attempt after the previous one ended;</li>
 *   <li>on this host, a process that no longer runs (no process with its id, or one that started at another time);</li>
 *   <li>elsewhere, silent: its heartbeat older than {@link Timing#staleAfter()} by this host's clock, and unchanged
 *       while this driver watches it for two heartbeats (so a holder whose clock runs behind is not taken for dead).
 *       </li>
 * </ul>
 * Anything else holds the run: a second {@code train} or {@code --resume} is refused with one line naming the holder.
 * On object stores without an atomic create (s3a) two drivers starting in the same instant could both claim.
 */
public final class RunClaim implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RunClaim.class);
    private static final Pattern NAME = Pattern.compile("(\\d{10})(\\.released)?");
    private static final String RELEASED = ".released";
    private static final DateTimeFormatter TIME = DateTimeFormatter.ISO_OFFSET_DATE_TIME;
    /** How long a process may take to write the claim it has just created (readers see it empty meanwhile). */
    private static final Duration BEING_WRITTEN = Duration.ofSeconds(2);

    /** How often a holder refreshes its heartbeat, and when a silent holder elsewhere may be dead. */
    public record Timing(Duration heartbeat, Duration staleAfter) {
        /** A minute of silence: longer than any pause of a live driver (a full GC, a slow filesystem call). */
        public static final Timing DEFAULT = new Timing(Duration.ofSeconds(5), Duration.ofSeconds(60));
    }

    /**
     * Who holds a claim.
     *
     * @param attempt        the application attempt (YARN), empty where there is none
     * @param processStarted when the process started (epoch millis; -1: unknown), so a reused process id is no holder
     * @param claimedAt      when the claim was taken (epoch millis)
     */
    public record Holder(String appId, String attempt, String host, long pid, long processStarted, long claimedAt) {
        /** This JVM, for the Spark application {@code appId} (attempt: {@code attempt}, empty without one). */
        public static Holder thisProcess(String appId, Optional<String> attempt) {
            ProcessHandle self = ProcessHandle.current();
            return new Holder(appId, attempt.orElse(""), localHost(), self.pid(), self.info().startInstant()
                    .map(Instant::toEpochMilli).orElse(-1L), System.currentTimeMillis());
        }

        /** "application A (attempt N) on host H (pid P) since T": the holder as a user reads it. */
        public String describe() {
            return "application " + appId + (attempt.isEmpty() ? "" : " (attempt " + attempt + ")") + " on host "
                    + host + " (pid " + pid + ") since " + TIME.format(Instant.ofEpochMilli(claimedAt)
                    .truncatedTo(ChronoUnit.SECONDS).atZone(ZoneId.systemDefault()));
        }

        byte[] toBytes() {
            Properties p = new Properties();
            p.setProperty("app-id", appId);
            p.setProperty("app-attempt", attempt);
            p.setProperty("host", host);
            p.setProperty("pid", Long.toString(pid));
            p.setProperty("process-started", Long.toString(processStarted));
            p.setProperty("claimed-at", Long.toString(claimedAt));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try {
                p.store(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8), "sparkdropout run claim");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return out.toByteArray();
        }

        /** The holder {@code bytes} record; empty while the file is still being written (or is not a claim). */
        static Optional<Holder> parse(byte[] bytes) {
            Properties p = new Properties();
            try {
                p.load(new java.io.InputStreamReader(new ByteArrayInputStream(bytes), StandardCharsets.UTF_8));
                return Optional.of(new Holder(Objects.requireNonNull(p.getProperty("app-id")),
                        p.getProperty("app-attempt", ""), Objects.requireNonNull(p.getProperty("host")),
                        Long.parseLong(p.getProperty("pid")),
                        Long.parseLong(p.getProperty("process-started", "-1")),
                        Long.parseLong(p.getProperty("claimed-at"))));
            } catch (IOException | RuntimeException incomplete) {
                return Optional.empty();
            }
        }

        private static String localHost() {
            try {
                return InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                return "unknown";
            }
        }
    }

    private final FileSystem fs;
    private final Path path;
    private final String takeover;
    private final ScheduledExecutorService heartbeat;
    private final AtomicBoolean released = new AtomicBoolean();

    private RunClaim(FileSystem fs, Path path, String takeover, Timing timing) {
        this.fs = fs;
        this.path = path;
        this.takeover = takeover;
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(
                DaemonThreads.named("run-claim-heartbeat " + path.getParent().getName()));
        long every = timing.heartbeat().toMillis();
        heartbeat.scheduleWithFixedDelay(this::beat, every, every, TimeUnit.MILLISECONDS);
    }

    /**
     * Claims run {@code runId} under the metrics location {@code metricsRoot} for {@code me}; refused (a
     * {@link UsageException}, one line naming the holder) while another live driver holds it.
     */
    /** {@link #take} for the driver of {@code sc}; a takeover of a dead driver's claim is said on {@code out}. */
    static RunClaim forDriver(org.apache.spark.SparkContext sc, String metricsRoot, String runId,
                              java.io.PrintStream out) {
        RunClaim claim = take(sc.hadoopConfiguration(), metricsRoot, runId, Holder.thisProcess(sc.applicationId(),
                Optional.ofNullable(sc.applicationAttemptId().getOrElse(() -> null))));
        claim.takeover().ifPresent(out::println);
        return claim;
    }

    public static RunClaim take(Configuration hadoop, String metricsRoot, String runId, Holder me) {
        return take(hadoop, metricsRoot, runId, me, Timing.DEFAULT);
    }

    /**
     * Why {@code dir} could not be created: Hadoop's local filesystem only answers false, so on a local disk the
     * JDK is asked for the reason (e.g. "Read-only file system").
     */
    private static String whyNotCreated(FileSystem fs, Path dir) {
        if (fs instanceof LocalFileSystem || fs instanceof RawLocalFileSystem) {
            try {
                Files.createDirectories(java.nio.file.Path.of(fs.makeQualified(dir).toUri()));
            } catch (java.nio.file.FileSystemException e) {
                return e.getReason() != null ? e.getReason() : e.getClass().getSimpleName();
            } catch (IOException | RuntimeException e) {
                return String.valueOf(e.getMessage());
            }
        }
        return "cannot create " + dir;
    }

    static RunClaim take(Configuration hadoop, String metricsRoot, String runId, Holder me, Timing timing) {
        if (runId.isEmpty() || runId.contains("/")) {
            throw new IllegalArgumentException("not a run id: '" + runId + "'");
        }
        Path dir = new Path(new Path(metricsRoot, "claims"), runId);
        try {
            FileSystem fs = dir.getFileSystem(hadoop);
            if (!Protection.mkdirs(fs, dir)) { // each missing parent protected too, as the job's directories are
                throw new UsageException(metricsRoot + ": cannot write the metrics tables there: "
                        + whyNotCreated(fs, dir));
            }
            FsPermission file = Protection.file(fs);
            for (int attempt = 0; attempt < 100; attempt++) {
                List<Entry> entries = list(fs, dir);
                Entry top = entries.isEmpty() ? null : entries.get(entries.size() - 1);
                String takeover = null;
                if (top != null && !top.released()) {
                    Optional<Holder> holder = read(fs, top.status().getPath());
                    Optional<String> dead = deadHolder(fs, top, holder, me, timing);
                    if (dead == null) { // changed while judged: look again
                        continue;
                    }
                    if (dead.isEmpty()) {
                        throw new UsageException("run '" + runId + "' is in use by " + holder.map(Holder::describe)
                                .orElse("a driver whose claim " + top.status().getPath() + " names no holder")
                                + ": one driver at a time writes a run (wait for it to end, or stop it)");
                    }
                    takeover = "run " + runId + ": taking over the claim of " + dead.get();
                }
                Path mine = new Path(dir, String.format("%010d", top == null ? 1 : top.number() + 1));
                if (!createExclusively(fs, mine, me.toBytes(), file)) {
                    continue; // another driver took this number first
                }
                List<Entry> now = list(fs, dir);
                if (now.get(now.size() - 1).number() > number(mine)) {
                    fs.delete(mine, false); // a driver that saw a later state holds it, or will: look again
                    continue;
                }
                for (Entry e : now) { // earlier claims, released or dead: nobody reads them again
                    if (e.number() < number(mine)) {
                        fs.delete(e.status().getPath(), false);
                    }
                }
                return new RunClaim(fs, mine, takeover, timing);
            }
            throw new IllegalStateException("cannot claim run " + runId + " in " + dir + ": its claims keep changing");
        } catch (IOException e) {
            RuntimeException refused = UsageException.atLocation(dir + ": cannot claim run " + runId, e);
            if (refused instanceof UsageException) { // said as the tables' own check says it: the location is at fault
                throw new UsageException(metricsRoot + ": cannot write the metrics tables there: "
                        + (e instanceof java.nio.file.FileSystemException f && f.getReason() != null ? f.getReason()
                        : e.getMessage()));
            }
            throw refused;
        }
    }

    /**
     * Throws a {@link JobFailure}, one line, if another driver has claimed the run since this one: a claim numbered
     * after this driver's. That is a takeover (it took this driver for dead: a heartbeat that could not reach the
     * filesystem, or a process frozen, for longer than {@link Timing#staleAfter()}), or a claim taken after this
     * driver released its own while a JVM shutting down still finishes its epoch in flight. Checked before each of
     * this driver's writes into the run, so it writes nothing more into a run another driver holds. A check that
     * cannot reach the filesystem passes: the write then fails itself.
     */
    public void requireHeld(String what) {
        List<Entry> claims;
        try {
            claims = list(fs, path.getParent());
        } catch (IOException e) {
            return;
        }
        if (!claims.isEmpty() && claims.get(claims.size() - 1).number() > number(path)) {
            heartbeat.shutdown();
            throw new JobFailure("run " + path.getParent().getName() + " was taken over by another driver (its claim "
                    + claims.get(claims.size() - 1).status().getPath().getName() + " follows this driver's "
                    + path.getName() + "): this driver stops before " + what + "; the run is the other driver's now",
                    null);
        }
    }

    /** The line saying whose dead claim this one took over, if it did. */
    public Optional<String> takeover() {
        return Optional.ofNullable(takeover);
    }

    public Path path() {
        return path;
    }

    /**
     * Releases the claim (never another driver's, should one have taken it over meanwhile); once, from whichever
     * thread calls first (the command's end, or a shutdown hook that has stopped the run's writing).
     */
    @Override
    public void close() {
        if (!released.compareAndSet(false, true)) {
            return;
        }
        heartbeat.shutdownNow();
        try {
            heartbeat.awaitTermination(10, TimeUnit.SECONDS);
            if (!fs.rename(path, path.suffix(RELEASED))) {
                throw new FileNotFoundException(path.toString());
            }
        } catch (FileNotFoundException e) {
            LOG.warn("the claim {} was no longer there to release: another driver took the run over", path);
        } catch (IOException e) {
            LOG.warn("cannot release the claim {} ({}); the next command on the run takes it over once this process"
                    + " has ended", path, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops the heartbeat and keeps the claim, as a killed driver leaves it (tests). */
    void abandon() {
        heartbeat.shutdownNow();
    }

    private void beat() {
        try {
            fs.setTimes(path, System.currentTimeMillis(), -1);
        } catch (FileNotFoundException e) {
            LOG.error("the claim {} is gone: another driver took this run over; stopping the heartbeat", path);
            heartbeat.shutdown();
        } catch (IOException | RuntimeException e) { // a passing failure; an exception would end the schedule
            LOG.warn("cannot refresh the claim {}: {}", path, e.toString());
        }
    }

    private record Entry(long number, boolean released, FileStatus status) {
    }

    private static long number(Path claim) {
        return Long.parseLong(claim.getName());
    }

    /** The run's claims, lowest number first. */
    private static List<Entry> list(FileSystem fs, Path dir) throws IOException {
        List<Entry> out = new ArrayList<>();
        for (FileStatus s : fs.listStatus(dir)) {
            Matcher m = NAME.matcher(s.getPath().getName());
            if (m.matches()) {
                out.add(new Entry(Long.parseLong(m.group(1)), m.group(2) != null, s));
            }
        }
        out.sort(Comparator.comparingLong(Entry::number).thenComparing(Entry::released));
        return out;
    }

    /**
     * Why {@code top}'s {@code holder} (empty: it names none) is dead (a line's end), empty if it is alive, null if
     * the claim changed (released, taken over) while it was judged.
     */
    private static Optional<String> deadHolder(FileSystem fs, Entry top, Optional<Holder> holder, Holder me,
                                               Timing timing) throws IOException {
        if (holder.isPresent()) {
            Holder h = holder.get();
            String which = h.describe() + ", which ended without releasing it";
            if (h.appId().equals(me.appId()) && !me.attempt().isEmpty() && !h.attempt().equals(me.attempt())) {
                return Optional.of(which + " (an earlier attempt of this application)");
            }
            if (h.host().equals(me.host()) && !h.host().equals("unknown")) {
                return running(h) ? Optional.empty() : Optional.of(which + " (its process is gone)");
            }
        }
        long now = System.currentTimeMillis();
        long beat = top.status().getModificationTime();
        if (now - beat < timing.staleAfter().toMillis()) {
            return Optional.empty();
        }
        long watchUntil = now + 2 * timing.heartbeat().toMillis();
        while (System.currentTimeMillis() < watchUntil) {
            sleep(Math.min(500, timing.heartbeat().toMillis() / 2));
            FileStatus s;
            try {
                s = fs.getFileStatus(top.status().getPath());
            } catch (FileNotFoundException released) {
                return null;
            }
            if (s.getModificationTime() != beat) {
                return Optional.empty();
            }
        }
        return Optional.of((holder.isPresent() ? holder.get().describe() : "a driver that left no name in "
                + top.status().getPath()) + ", which ended without releasing it (its heartbeat stopped at "
                + TIME.format(Instant.ofEpochMilli(beat).truncatedTo(ChronoUnit.SECONDS).atZone(ZoneId.systemDefault()))
                + ")");
    }

    /** Whether {@code h}'s process runs on this host: its id, started when it was (to the second, as recorded). */
    private static boolean running(Holder h) {
        Optional<ProcessHandle> p = ProcessHandle.of(h.pid()).filter(ProcessHandle::isAlive);
        if (p.isEmpty()) {
            return false;
        }
        Optional<Instant> started = p.get().info().startInstant();
        return h.processStarted() < 0 || started.isEmpty()
                || Math.abs(started.get().toEpochMilli() - h.processStarted()) < 1000;
    }

    /** The holder {@code claim} names, waiting a moment for one just created to be written. */
    private static Optional<Holder> read(FileSystem fs, Path claim) throws IOException {
        long until = System.nanoTime() + BEING_WRITTEN.toNanos();
        while (true) {
            try (InputStream in = fs.open(claim)) {
                Optional<Holder> h = Holder.parse(in.readAllBytes());
                if (h.isPresent() || System.nanoTime() > until) {
                    return h;
                }
            } catch (FileNotFoundException gone) {
                return Optional.empty();
            }
            sleep(50);
        }
    }

    /**
     * Creates {@code path} holding {@code bytes} unless it exists, atomically: false if it existed. Hadoop's local
     * filesystem checks for the file and then opens it truncating, so two processes could both "create" it; there
     * the JDK's {@code CREATE_NEW} is the atomic create.
     */
    private static boolean createExclusively(FileSystem fs, Path path, byte[] bytes, FsPermission permission)
            throws IOException {
        java.io.File local = fs instanceof LocalFileSystem l ? l.pathToFile(path)
                : fs instanceof RawLocalFileSystem r ? r.pathToFile(path) : null;
        if (local != null) {
            FileAttribute<?>[] attrs = FileSystems.getDefault().supportedFileAttributeViews().contains("posix")
                    ? new FileAttribute<?>[]{PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(
                    permission.toString()))} : new FileAttribute<?>[0];
            try (SeekableByteChannel out = Files.newByteChannel(local.toPath(), Set.of(StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE), attrs)) {
                out.write(ByteBuffer.wrap(bytes));
                return true;
            } catch (FileAlreadyExistsException e) {
                return false;
            }
        }
        try (FSDataOutputStream out = fs.create(path, permission, false, 4096, fs.getDefaultReplication(path),
                fs.getDefaultBlockSize(path), null)) {
            out.write(bytes);
            return true;
        } catch (org.apache.hadoop.fs.FileAlreadyExistsException e) {
            return false;
        } catch (RemoteException e) { // HDFS: the file exists and another create of it is still open
            if (e.getClassName().endsWith(".AlreadyBeingCreatedException")) {
                return false;
            }
            throw e;
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while looking at a run's claim", e);
        }
    }
}
