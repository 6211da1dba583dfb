package io.github.sparkdropout;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A test whose results depend on OpenBLAS's kernels (bit identities, exact sums). Besides the ordinary run under
 * the kernels OpenBLAS detects, the build runs these again under each kernel set the CPU can run (the
 * {@code kernels-*} executions of surefire in pom.xml), so a CPU that picks other kernels sees no new failure.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag("kernels")
@ExtendWith(KernelSetCondition.class)
public @interface KernelSensitive {
}
