package io.github.sparkdropout.model;

import io.github.sparkdropout.KernelSensitive;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
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
            assertTrue(kernels.matches("\\S+ \\(auto-detected(: .*)?\\)"), kernels);
            assertNotEquals("unknown (auto-detected)", kernels);
        } else {
            assertEquals(pinned.toLowerCase() + " (openblas_coretype)", kernels.toLowerCase());
        }
    }

    @Test
    void anOlderKernelSetThanTheCpuRunsIsNamedWithTheOneToAskFor() {
        Set<String> avx512 = Set.of("sse2", "pni", "avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq",
                "avx512vl");
        assertEquals("SkylakeX", HostBlas.betterKernels("Prescott", avx512)); // Emerald Rapids under OpenBLAS 0.3.19
        assertEquals("Haswell", HostBlas.betterKernels("Sandybridge", Set.of("pni", "avx", "avx2", "fma")));
        assertNull(HostBlas.betterKernels("Prescott", Set.of("sse2", "pni")), "nothing better to run");
        assertNull(HostBlas.betterKernels("Zen", avx512), "Zen is Haswell's kernels: OpenBLAS's own choice");
        assertNull(HostBlas.betterKernels("SkylakeX", avx512));
        assertEquals("SkylakeX", HostBlas.KernelChoice.bestFor(avx512));
        assertEquals("Haswell", HostBlas.KernelChoice.bestFor(Set.of("pni", "avx", "avx2", "fma")));
        assertNull(HostBlas.KernelChoice.bestFor(Set.of("pni", "avx")));
    }

    @Test
    void aJvmThatHasLoadedOpenBlasNoLongerChooses() {
        HostBlas.kernels(); // OpenBLAS loaded
        assertNull(HostBlas.KernelChoice.askForTheBest());
    }
}
