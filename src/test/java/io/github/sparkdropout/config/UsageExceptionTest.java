package io.github.sparkdropout.config;

import org.apache.hadoop.fs.ParentNotDirectoryException;
import org.apache.hadoop.security.AccessControlException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** An I/O failure at a user's location is theirs to fix only when the location itself is the problem. */
class UsageExceptionTest {
    @Test
    void aLocationTheUserMustFixIsAUsageError() {
        for (IOException e : new IOException[]{new AccessDeniedException("/m"), new AccessControlException("denied"),
                new ParentNotDirectoryException("/f is a file")}) {
            RuntimeException r = UsageException.atLocation("/m: cannot create the metrics tables there", e);
            assertInstanceOf(UsageException.class, r);
            assertEquals("/m: cannot create the metrics tables there: " + e.getMessage(), r.getMessage());
        }
    }

    @Test
    void anyOtherIoFailureIsTheJobsWithItsCause() {
        IOException lost = new IOException("Connection reset by peer");
        RuntimeException r = UsageException.atLocation("hdfs://nn/m: cannot list the metrics table", lost);
        assertInstanceOf(UncheckedIOException.class, r);
        assertEquals(lost, r.getCause());
    }
}
