package io.github.sparkdropout.model;

import io.github.sparkdropout.KernelSensitive;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel line reports the kernels OpenBLAS loaded, not what was asked: and the build's pinned runs really run
 * the kernel set they name (else they would test the detected kernels twice).
 */
@KernelSensitive
class OpenBlasKernelsTest {
    @Test
    void reportsTheKernelSetOpenBlasLoaded() {
        String kernels = HostBlas.kernels();
        String pinned = System.getenv("OPENBLAS_CORETYPE");
        if (pinned == null || pinned.isEmpty()) {
            assertTrue(kernels.endsWith(" (auto-detected)"), kernels);
            assertNotEquals("unknown (auto-detected)", kernels);
        } else {
            assertEquals(pinned.toLowerCase() + " (openblas_coretype)", kernels.toLowerCase());
        }
    }
}
