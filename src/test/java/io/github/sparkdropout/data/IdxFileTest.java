package io.github.sparkdropout.data;

import io.github.sparkdropout.TestData;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdxFileTest {
    private static final Configuration HADOOP = new Configuration();

    @TempDir
    Path dir;

    private String error(Path file, int magic) {
        DataException e = assertThrows(DataException.class, () -> IdxFile.read(file.toString(), magic, 0, HADOOP));
        assertFalse(e.getMessage().contains("\n"), "one-line message: " + e.getMessage());
        assertTrue(e.getMessage().startsWith(file.toString()), "names the file: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void readsGzipAndPlainFilesAndTheirChecksum() throws Exception {
        byte[] payload = {0, 1, 2, (byte) 255, 4, 5};
        byte[] content = TestData.idx(IdxFile.LABELS_MAGIC, new int[]{6}, payload);
        Path gz = TestData.writeGz(dir.resolve("l.gz"), content);
        Path plain = Files.write(dir.resolve("l"), content);
        for (Path p : new Path[]{gz, plain}) {
            IdxFile f = IdxFile.read(p.toString(), IdxFile.LABELS_MAGIC, 0, HADOOP);
            assertArrayEquals(new int[]{6}, f.dims());
            assertArrayEquals(payload, f.data());
            assertEquals(java.util.HexFormat.of().formatHex(
                    java.security.MessageDigest.getInstance("SHA-256").digest(content)), f.sha256());
        }
    }

    @Test
    void limitKeepsTheFirstItemsButChecksTheWholeFile() throws Exception {
        byte[] px = new byte[5 * 4];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) i;
        }
        Path f = TestData.writeGz(dir.resolve("i.gz"), TestData.idx(IdxFile.IMAGES_MAGIC, new int[]{5, 2, 2}, px));
        IdxFile idx = IdxFile.read(f.toString(), IdxFile.IMAGES_MAGIC, 2, HADOOP);
        assertEquals(2, idx.count());
        assertArrayEquals(Arrays.copyOf(px, 8), idx.data());
        Path cut = TestData.writeGz(dir.resolve("cut.gz"), Arrays.copyOf(
                TestData.idx(IdxFile.IMAGES_MAGIC, new int[]{5, 2, 2}, px), 16 + 19));
        assertTrue(error(cut, IdxFile.IMAGES_MAGIC).contains("truncated"));
    }

    @Test
    void wrongMagicNumber() throws Exception {
        Path f = TestData.writeGz(dir.resolve("x.gz"), TestData.idx(IdxFile.LABELS_MAGIC, new int[]{1}, new byte[1]));
        String msg = error(f, IdxFile.IMAGES_MAGIC);
        assertTrue(msg.contains("wrong magic number 2049") && msg.contains("expected 2051"), msg);
    }

    @Test
    void truncatedPayloadHeaderAndGzipStream() throws Exception {
        Path payload = TestData.writeGz(dir.resolve("p.gz"),
                TestData.idx(IdxFile.LABELS_MAGIC, new int[]{10}, new byte[7]));
        assertTrue(error(payload, IdxFile.LABELS_MAGIC).contains("declares 10 items"));
        Path header = TestData.writeGz(dir.resolve("h.gz"), new byte[]{0, 0, 8});
        assertTrue(error(header, IdxFile.LABELS_MAGIC).contains("truncated"));
        byte[] gz = Files.readAllBytes(TestData.writeGz(dir.resolve("full.gz"),
                TestData.idx(IdxFile.LABELS_MAGIC, new int[]{1000}, new byte[1000])));
        Path cutStream = Files.write(dir.resolve("cutstream.gz"), Arrays.copyOf(gz, gz.length / 2));
        assertTrue(error(cutStream, IdxFile.LABELS_MAGIC).contains("truncated"));
    }

    @Test
    void corruptGzipAndTrailingBytesAndMissingFile() throws Exception {
        byte[] gz = Files.readAllBytes(TestData.writeGz(dir.resolve("ok.gz"),
                TestData.idx(IdxFile.LABELS_MAGIC, new int[]{100}, new byte[100])));
        for (int i = 12; i < gz.length - 8; i++) {
            gz[i] ^= 0x5a;
        }
        Path corrupt = Files.write(dir.resolve("corrupt.gz"), gz);
        assertTrue(error(corrupt, IdxFile.LABELS_MAGIC).contains("corrupt gzip"));
        Path extra = TestData.writeGz(dir.resolve("extra.gz"),
                TestData.idx(IdxFile.LABELS_MAGIC, new int[]{2}, new byte[5]));
        assertTrue(error(extra, IdxFile.LABELS_MAGIC).contains("bytes after"));
        assertTrue(error(dir.resolve("nope.gz"), IdxFile.LABELS_MAGIC).contains("file not found"));
    }
}
