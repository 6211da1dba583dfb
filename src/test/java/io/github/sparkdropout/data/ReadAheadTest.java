package io.github.sparkdropout.data;

import io.github.sparkdropout.TestData;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Files read while Spark starts: the same splits as reading them then, or nothing when they are not the ones asked. */
class ReadAheadTest {
    private static final Configuration HADOOP = new Configuration();

    @TempDir
    Path dir;

    @Test
    void theSplitsAreThoseTheJobWouldRead() throws Exception {
        TestData.fashionLike(dir, 30, 20);
        ReadAhead.Splits got = ReadAhead.start(dir.toString(), 25, 0).take(dir.toString(), 25, 0, HADOOP);
        assertNotNull(got);
        FashionMnist.Split train = FashionMnist.train(dir.toString(), 25, HADOOP);
        FashionMnist.Split test = FashionMnist.test(dir.toString(), 0, HADOOP);
        for (FashionMnist.Split[] pair : new FashionMnist.Split[][]{{train, got.train()}, {test, got.test()}}) {
            assertEquals(pair[0].name(), pair[1].name());
            assertEquals(pair[0].count(), pair[1].count());
            assertArrayEquals(pair[0].pixels(), pair[1].pixels());
            assertArrayEquals(pair[0].labels(), pair[1].labels());
            assertEquals(pair[0].imagesSha256(), pair[1].imagesSha256());
            assertEquals(pair[0].labelsSha256(), pair[1].labelsSha256());
        }
        assertEquals(25, got.train().count());
        assertEquals(20, got.test().count());
    }

    @Test
    void otherFilesOrLimitsAreReadByTheJob() throws Exception {
        TestData.fashionLike(dir, 30, 20);
        assertNull(ReadAhead.start(dir.toString(), 0, 0).take(dir.toString(), 10, 0, HADOOP), "another limit");
        assertNull(ReadAhead.start(dir.toString(), 0, 0).take(dir + "/other", 0, 0, HADOOP), "another path");
        Configuration hdfs = new Configuration();
        hdfs.set("fs.defaultFS", "hdfs://127.0.0.1:1");
        assertNull(ReadAhead.start("relative/data", 0, 0).take("relative/data", 0, 0, hdfs),
                "a path the job's configuration puts on another filesystem");
        assertNull(ReadAhead.start("hdfs://127.0.0.1:1/data", 0, 0), "not local: nothing read ahead");
    }

    @Test
    void badInputFailsAsReadingItThenWould() throws Exception {
        TestData.fashionLike(dir, 30, 20);
        byte[] labels = new byte[30];
        labels[17] = 10;
        TestData.writeGz(dir.resolve("train-labels-idx1-ubyte.gz"), TestData.idx(2049, new int[]{30}, labels));
        ReadAhead ahead = ReadAhead.start(dir.toString(), 0, 0);
        String expected = assertThrows(DataException.class, () -> FashionMnist.train(dir.toString(), 0, HADOOP))
                .getMessage();
        assertEquals(expected, assertThrows(DataException.class, () -> ahead.take(dir.toString(), 0, 0, HADOOP))
                .getMessage());
    }
}
