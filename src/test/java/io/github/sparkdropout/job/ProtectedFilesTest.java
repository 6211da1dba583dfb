package io.github.sparkdropout.job;

import io.github.sparkdropout.RecordingOutput;
import io.github.sparkdropout.TestData;
import io.github.sparkdropout.TestSpark;
import io.github.sparkdropout.config.TrainConfig;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Under a umask that takes nothing away (Hadoop's {@code fs.permissions.umask-mode} 000), nothing a run and its
 * predictions create is writable by others: not the files, and not the directories (models/RUN/, checkpoints/,
 * plots/, the tables' directories and their staging, the predictions), where others could replace a file by a
 * rename.
 */
class ProtectedFilesTest {
    @TempDir
    Path dir;

    @Test
    void nothingARunCreatesIsWritableByOthersUnderUmask000() throws Exception {
        Configuration hadoop = TestSpark.get().sparkContext().hadoopConfiguration();
        String umask = hadoop.get("fs.permissions.umask-mode");
        String cache = hadoop.get("fs.file.impl.disable.cache");
        hadoop.set("fs.permissions.umask-mode", "000");
        hadoop.setBoolean("fs.file.impl.disable.cache", true); // filesystems with this umask, not the cached ones
        Path metrics = dir.resolve("new/metrics");
        try {
            new TrainJob(TestSpark.get(), new RecordingOutput()).run(TrainConfig.of(Map.of("data",
                    TestData.realData(), "metrics", metrics.toString(), "train-limit", "1024", "test-limit", "300",
                    "epochs", "1", "run-id", "open", "workers", "2")));
            new PredictJob(TestSpark.get()).run(metrics.toString(), "open", null, TestData.realData(), "test", 100,
                    metrics.resolve("predictions/p").toString());
        } finally {
            restore(hadoop, "fs.permissions.umask-mode", umask);
            restore(hadoop, "fs.file.impl.disable.cache", cache);
        }
        List<Path> created;
        try (Stream<Path> all = Files.walk(dir.resolve("new"))) {
            created = all.toList();
        }
        for (String expected : List.of("new", "new/metrics/models/open/checkpoints/epoch-0001.zip",
                "new/metrics/models/open/model.zip", "new/metrics/plots/open.png", "new/metrics/epochs/_staging",
                "new/metrics/classes/open-epoch-0001.parquet", "new/metrics/predictions/p/_SUCCESS")) {
            assertTrue(created.contains(dir.resolve(expected)), expected + " in " + created);
        }
        assertTrue(Files.getPosixFilePermissions(dir.resolve("new/metrics/models/open"))
                .contains(PosixFilePermission.GROUP_WRITE), "the umask 000 applied");
        List<Path> open = created.stream().filter(p -> permissions(p).contains(PosixFilePermission.OTHERS_WRITE))
                .toList();
        assertEquals(List.of(), open, "writable by others");
    }

    private static Set<PosixFilePermission> permissions(Path p) {
        try {
            return Files.getPosixFilePermissions(p);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void restore(Configuration hadoop, String key, String value) {
        if (value == null) {
            hadoop.unset(key);
        } else {
            hadoop.set(key, value);
        }
    }
}
