package io.github.sparkdropout;

import io.github.sparkdropout.model.HostBlas;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Skips a {@link KernelSensitive} test in a run pinned to an OpenBLAS kernel set (OPENBLAS_CORETYPE) that this CPU
 * cannot execute: OpenBLAS takes the name as given and its kernels would die on an illegal instruction. Checked
 * against /proc/cpuinfo before any test touches OpenBLAS.
 */
public final class KernelSetCondition implements ExecutionCondition {
    /** The CPU flags each kernel set's instructions need (OpenBLAS's own checks for these cores). */
    static List<String> flagsNeeded(String coreType) {
        return switch (coreType.toLowerCase(java.util.Locale.ROOT)) {
            case "prescott" -> List.of("pni"); // SSE3, as /proc/cpuinfo names it
            case "haswell", "zen" -> List.of("avx2", "fma");
            case "skylakex" -> List.of("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl");
            case "cooperlake" -> List.of("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx512_bf16");
            default -> List.of();
        };
    }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        String pinned = System.getenv("OPENBLAS_CORETYPE");
        if (pinned == null || pinned.isEmpty()) {
            return ConditionEvaluationResult.enabled("OpenBLAS detects its kernels");
        }
        Set<String> flags = HostBlas.KernelChoice.cpuFlags();
        List<String> missing = flagsNeeded(pinned).stream().filter(f -> !flags.contains(f))
                .collect(Collectors.toList());
        return missing.isEmpty() ? ConditionEvaluationResult.enabled("this CPU runs " + pinned + " kernels")
                : ConditionEvaluationResult.disabled("this CPU cannot run OpenBLAS's " + pinned + " kernels (no "
                + String.join(", ", missing) + ")");
    }
}
