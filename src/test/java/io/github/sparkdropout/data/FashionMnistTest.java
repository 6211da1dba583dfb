package io.github.sparkdropout.data;

import io.github.sparkdropout.TestData;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FashionMnistTest {
    private static final Configuration HADOOP = new Configuration();

    @TempDir
    Path dir;

    @Test
    void readsAGeneratedSetAndFlagsItAsNotOfficial() throws Exception {
        TestData.fashionLike(dir, 30, 20);
        FashionMnist.Split train = FashionMnist.train(dir.toString(), 0, HADOOP);
        FashionMnist.Split test = FashionMnist.test(dir.toString(), 7, HADOOP);
        assertEquals(30, train.count());
        assertEquals(30 * 784, train.pixels().length);
        assertEquals(7, test.count());
        assertEquals(3, train.labels()[13]);
        assertFalse(train.official());
    }

    @Test
    void theRealDataMatchesTheOfficialChecksums() {
        FashionMnist.Split test = FashionMnist.test(TestData.realData(), 0, HADOOP);
        assertEquals(10000, test.count());
        assertTrue(test.official(), "SHA-256 of the real t10k files");
    }

    @Test
    void mismatchedCounts() throws Exception {
        TestData.fashionLike(dir, 30, 20);
        TestData.writeGz(dir.resolve("train-labels-idx1-ubyte.gz"), TestData.idx(2049, new int[]{29}, new byte[29]));
        String msg = assertThrows(DataException.class, () -> FashionMnist.train(dir.toString(), 0, HADOOP))
                .getMessage();
        assertTrue(msg.contains("30 images but") && msg.contains("29 labels"), msg);
    }

    @Test
    void labelOutOfRange() throws Exception {
        TestData.fashionLike(dir, 30, 20);
        byte[] labels = new byte[30];
        labels[17] = 10;
        TestData.writeGz(dir.resolve("train-labels-idx1-ubyte.gz"), TestData.idx(2049, new int[]{30}, labels));
        String msg = assertThrows(DataException.class, () -> FashionMnist.train(dir.toString(), 0, HADOOP))
                .getMessage();
        assertTrue(msg.contains("label 10 at index 17 is outside 0..9"), msg);
    }

    @Test
    void wrongImageSize() throws Exception {
        TestData.fashionLike(dir, 30, 20);
        TestData.writeGz(dir.resolve("t10k-images-idx3-ubyte.gz"),
                TestData.idx(2051, new int[]{20, 28, 27}, new byte[20 * 28 * 27]));
        String msg = assertThrows(DataException.class, () -> FashionMnist.test(dir.toString(), 0, HADOOP))
                .getMessage();
        assertTrue(msg.contains("images are 28x27, expected 28x28"), msg);
    }
}
