package io.github.sparkdropout.checkpoint;

import io.github.sparkdropout.data.DataException;
import io.github.sparkdropout.fs.LiteralPaths;
import io.github.sparkdropout.fs.Protection;
import io.github.sparkdropout.fs.Renames;
import io.github.sparkdropout.model.ParamVectors;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ChecksumException;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FSError;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * A run's saved networks, next to the metrics tables on any Hadoop filesystem:
 * <pre>
 *   METRICS/models/RUN_ID/model.zip                      the final network
 *   METRICS/models/RUN_ID/checkpoints/epoch-NNNN.zip     the network after epoch NNNN, and what it takes to go on
 * </pre>
 * Every file is a DL4J {@code ModelSerializer} zip (configuration + parameters, loadable with
 * {@code MultiLayerNetwork.load}); a checkpoint adds one entry, {@value #STATE_ENTRY}, that DL4J ignores. Files are
 * published by a rename: written under {@code models/_staging/} and renamed into place, so a reader (or a resumed
 * run) never sees half a file. Files and the directories the store creates get the filesystem's default
 * permissions under Hadoop's umask ({@code fs.permissions.umask-mode}, 022 by default), and are never writable by
 * others whatever it is ({@link Protection}).
 */
public final class RunStore {
    public static final String STATE_ENTRY = "sparkdropout-checkpoint.properties";
    private static final Pattern CHECKPOINT = Pattern.compile("epoch-(\\d{4,})\\.zip");

    private final FileSystem fs;
    private final FsPermission permission;
    private final Path models;

    /** The store under the metrics location {@code metricsRoot}. */
    public RunStore(Configuration hadoop, String metricsRoot) {
        this.models = new Path(metricsRoot, "models");
        try {
            this.fs = models.getFileSystem(hadoop);
            this.permission = Protection.file(fs);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open " + models, e);
        }
    }

    /** A checkpoint as read back: after which epoch, the state recorded with it, and the network. */
    public record Saved(int epoch, Map<String, String> state, MultiLayerNetwork network) {
    }

    public Path modelPath(String runId) {
        return new Path(new Path(models, runId), "model.zip");
    }

    public Path checkpointPath(String runId, int epoch) {
        return new Path(checkpoints(runId), String.format("epoch-%04d.zip", epoch));
    }

    private Path checkpoints(String runId) {
        return new Path(new Path(models, runId), "checkpoints");
    }

    /** Publishes the run's final network. */
    public void publishModel(String runId, MultiLayerNetwork network) {
        publish(modelPath(runId), zip(network, null));
    }

    /**
     * Publishes {@code network} (the network of the run's last checkpoint) as the run's final network unless
     * {@code model.zip} holds its parameters already; returns whether it published. A {@code model.zip} left from
     * an earlier epoch (a continuation stopped after a checkpoint, before its end) is replaced.
     */
    public boolean publishModelUnlessCurrent(String runId, MultiLayerNetwork network) {
        Path path = modelPath(runId);
        if (exists(path)) {
            try {
                MultiLayerNetwork published = ModelSerializer.restoreMultiLayerNetwork(
                        new ByteArrayInputStream(read(path)), false);
                if (Arrays.equals(ParamVectors.get(published), ParamVectors.get(network))) {
                    return false;
                }
            } catch (IOException | RuntimeException unreadable) {
                // replaced like a stale one
            }
        }
        publishModel(runId, network);
        return true;
    }

    /** Publishes the checkpoint of {@code runId} after {@code epoch}: {@code network} and its {@code state}. */
    public void publishCheckpoint(String runId, int epoch, MultiLayerNetwork network, Map<String, String> state) {
        publish(checkpointPath(runId, epoch), zip(network, new TreeMap<>(state)));
    }

    /** The last epoch with a checkpoint, if any. */
    public OptionalInt lastCheckpoint(String runId) {
        try {
            return epochs(runId).stream().mapToInt(Integer::intValue).max();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the checkpoints of run " + runId + " in " + models, e);
        }
    }

    /** The epochs of {@code runId} with a checkpoint, in order. */
    private List<Integer> epochs(String runId) throws IOException {
        return LiteralPaths.list(fs, checkpoints(runId), name -> CHECKPOINT.matcher(name).matches()).stream()
                .map(f -> CHECKPOINT.matcher(f.getPath().getName()))
                .filter(Matcher::matches)
                .map(m -> Integer.parseInt(m.group(1)))
                .sorted()
                .toList();
    }

    /**
     * Reads the checkpoint of {@code runId} after {@code epoch}. One that cannot be parsed (truncated, damaged) is
     * refused with a {@link DataException} that names it, the last intact one before it, and how to go on from
     * there.
     */
    public Saved checkpoint(String runId, int epoch) {
        Path path = checkpointPath(runId, epoch);
        try {
            return parse(readVerified(path), epoch);
        } catch (ChecksumException | DamagedFile damaged) {
            throw new DataException(unreadable(runId, epoch, path, damaged.getCause() != null ? damaged.getCause()
                    : damaged));
        }
    }

    /** A file whose bytes were read but do not parse. */
    private static final class DamagedFile extends Exception {
        private static final long serialVersionUID = 1L;

        DamagedFile(Throwable cause) {
            super(cause);
        }
    }

    /** The bytes of {@code path}; a checksum that does not match them (a checksummed filesystem) is thrown as such. */
    private byte[] readVerified(Path path) throws ChecksumException {
        try (InputStream in = fs.open(path)) {
            return in.readAllBytes();
        } catch (ChecksumException e) {
            throw e;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path, e);
        }
    }

    /** The one line for a damaged checkpoint: which, the last intact one before it, and what to do. */
    private String unreadable(String runId, int epoch, Path path, Throwable damaged) {
        String what = "the checkpoint " + path + " of run '" + runId + "' is unreadable ("
                + damaged.toString().lines().findFirst().orElse("") + ")";
        List<Integer> saved;
        try {
            saved = epochs(runId);
        } catch (IOException | RuntimeException unlisted) {
            return what;
        }
        List<Integer> earlier = saved.stream().filter(e -> e < epoch).toList();
        boolean last = saved.stream().allMatch(e -> e <= epoch);
        List<String> damagedFiles = new ArrayList<>(List.of(path.getName()));
        for (int i = earlier.size() - 1; i >= 0; i--) {
            int e = earlier.get(i);
            Path before = checkpointPath(runId, e);
            try {
                parse(readVerified(before), e);
            } catch (IOException | RuntimeException | DamagedFile alsoDamaged) {
                damagedFiles.add(0, before.getName());
                continue;
            }
            return what + "; " + before.getName() + " before it is intact" + (!last ? "" : ": rename "
                    + String.join(", ", damagedFiles) + " aside (e.g. to " + path.getName() + ".damaged) to go on"
                    + " from epoch " + e + " (--resume then trains the later epochs again)");
        }
        return what + "; no earlier checkpoint of the run is intact: train it again under another --run-id";
    }

    private static Saved parse(byte[] bytes, int epoch) throws DamagedFile {
        Properties state = new Properties();
        try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(bytes))) {
            for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
                if (e.getName().equals(STATE_ENTRY)) {
                    state.load(new java.io.InputStreamReader(zip, StandardCharsets.UTF_8));
                }
            }
            if (state.isEmpty()) {
                throw new IllegalStateException("no " + STATE_ENTRY + " entry: not a checkpoint of this job");
            }
            Map<String, String> map = new TreeMap<>();
            state.stringPropertyNames().forEach(k -> map.put(k, state.getProperty(k)));
            return new Saved(epoch, map, ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(bytes),
                    false));
        } catch (IOException | RuntimeException e) { // in memory: no I/O but the bytes' own
            throw new DamagedFile(e);
        }
    }

    /** Writes {@code network} as DL4J's zip to {@code path}, on any Hadoop filesystem (never over a file). */
    public static void writeNetwork(MultiLayerNetwork network, Path path, Configuration hadoop) {
        try (FSDataOutputStream out = path.getFileSystem(hadoop).create(path, false)) {
            out.write(zip(network, null));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the network " + path + ": " + e.getMessage(), e);
        } catch (FSError e) {
            throw new UncheckedIOException("cannot write the network " + path + ": " + Renames.writeFailure(e).getMessage(),
                    Renames.writeFailure(e));
        }
    }

    /** Reads a DL4J zip (a final model, a checkpoint, a Spark ML model's network) from any Hadoop filesystem. */
    public static MultiLayerNetwork readNetwork(Path path, Configuration hadoop) {
        try (InputStream in = path.getFileSystem(hadoop).open(path)) {
            return ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(in.readAllBytes()), false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the network " + path + ": " + e.getMessage(), e);
        }
    }

    public boolean exists(Path path) {
        try {
            return fs.exists(path);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot look for " + path, e);
        }
    }

    private byte[] read(Path path) {
        try (InputStream in = fs.open(path)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path, e);
        }
    }

    /**
     * DL4J's zip of {@code network}: the entries {@code ModelSerializer.writeModel(network, out, false)} writes
     * (configuration JSON, coefficients in ND4J's binary format; no updater state, plain SGD has none), plus our state
     * entry if any. Written here rather than by ModelSerializer only to store the entries without deflating them: a
     * parameter vector does not compress (0.98 of its size) and deflating it is CPU work taken from the training
     * threads while the next epoch runs. Any DL4J reads it ({@code MultiLayerNetwork.load},
     * {@code ModelSerializer.restoreMultiLayerNetwork}: tested).
     */
    static byte[] zip(MultiLayerNetwork network, Map<String, String> state) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream((int) network.numParams() * Float.BYTES + 16384);
            try (ZipOutputStream zip = new ZipOutputStream(out)) {
                zip.setLevel(java.util.zip.Deflater.NO_COMPRESSION);
                zip.putNextEntry(new ZipEntry(ModelSerializer.CONFIGURATION_JSON));
                zip.write(network.getLayerWiseConfigurations().toJson().getBytes(StandardCharsets.UTF_8));
                zip.closeEntry();
                zip.putNextEntry(new ZipEntry(ModelSerializer.COEFFICIENTS_BIN));
                java.io.DataOutputStream data = new java.io.DataOutputStream(new java.io.BufferedOutputStream(zip));
                org.nd4j.linalg.factory.Nd4j.write(network.params(), data);
                data.flush();
                zip.closeEntry();
                if (state != null) {
                    Properties p = new Properties();
                    p.putAll(state);
                    zip.putNextEntry(new ZipEntry(STATE_ENTRY));
                    ByteArrayOutputStream text = new ByteArrayOutputStream();
                    p.store(new java.io.OutputStreamWriter(text, StandardCharsets.UTF_8), "sparkdropout checkpoint");
                    zip.write(text.toByteArray());
                    zip.closeEntry();
                }
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialise the network", e);
        }
    }

    /** Writes {@code bytes} under models/_staging/, then renames it to {@code target} in one step. */
    private void publish(Path target, byte[] bytes) {
        Path staging = new Path(models, "_staging/" + UUID.randomUUID() + ".zip");
        try {
            if (!Protection.mkdirs(fs, staging.getParent())) {
                throw new IOException("cannot create " + staging.getParent());
            }
            try (FSDataOutputStream out = fs.create(staging, permission, false, 1 << 16,
                    fs.getDefaultReplication(staging), fs.getDefaultBlockSize(staging), null)) {
                out.write(bytes);
            }
            if (!Protection.mkdirs(fs, target.getParent())) {
                throw new IOException("cannot create " + target.getParent());
            }
            Renames.replace(fs, staging, target); // model.zip is replaced when a finished run goes on
        } catch (IOException e) {
            throw new UncheckedIOException("cannot publish " + target + ": " + e.getMessage(), e);
        } catch (FSError e) {
            throw new UncheckedIOException("cannot publish " + target + ": " + Renames.writeFailure(e).getMessage(),
                    Renames.writeFailure(e));
        } finally {
            try {
                fs.delete(staging, false);
            } catch (IOException | FSError ignored) {
                // a leftover staging file is invisible to readers
            }
        }
    }
}
