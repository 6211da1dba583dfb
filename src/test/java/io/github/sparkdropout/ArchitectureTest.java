package io.github.sparkdropout;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkEnv;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.core.domain.JavaCall.Predicates.target;
import static com.tngtech.archunit.core.domain.properties.HasName.Predicates.nameMatching;
import static com.tngtech.archunit.core.domain.properties.HasOwner.Predicates.With.owner;
import static com.tngtech.archunit.base.DescribedPredicate.and;
import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.simpleNameStartingWith;
import static com.tngtech.archunit.core.domain.properties.HasName.Predicates.name;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.assignableTo;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/** Rules of the code's shape that a review would otherwise have to catch, checked on the compiled classes. */
class ArchitectureTest {
    private static final String NATIVE_OWNERS = "io\\.github\\.sparkdropout\\.model\\.(HostBlas|HostOps)(\\$.*)?";
    private static JavaClasses main;

    @BeforeAll
    static void importMainClasses() {
        main = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.github.sparkdropout");
    }

    @Test
    void packagesHaveNoCycles() {
        slices().matching("io.github.sparkdropout.(**)").should().beFreeOfCycles().check(main);
    }

    @Test
    void sparkInternalsAreUsedOnlyBehindTheirAdapter() {
        ArchRule rule = noClasses().that().resideOutsideOfPackage("io.github.sparkdropout.spark")
                .should().dependOnClassesThat().resideInAnyPackage("org.apache.spark.rpc..")
                // the scheduler package: internal but for its public listener API (SparkListener, its events and
                // the ExecutorInfo they carry)
                .orShould().dependOnClassesThat(resideInAPackage("org.apache.spark.scheduler..")
                        .and(not(simpleNameStartingWith("SparkListener")))
                        .and(not(name("org.apache.spark.scheduler.cluster.ExecutorInfo"))))
                .orShould().dependOnClassesThat().haveFullyQualifiedName("org.apache.spark.util.RpcUtils")
                // Spark SQL's execution and Catalyst internals (its Parquet writer, row converters)
                .orShould().dependOnClassesThat().resideInAnyPackage("org.apache.spark.sql.execution..",
                        "org.apache.spark.sql.catalyst..")
                .orShould().callMethodWhere(target(and(owner(assignableTo(SparkContext.class)),
                        nameMatching("maxNumConcurrentTasks|resourceProfileManager|taskScheduler|dagScheduler"))))
                .orShould().callMethodWhere(target(and(owner(assignableTo(SparkEnv.class)),
                        nameMatching("rpcEnv"))))
                .because("Spark's private[spark] APIs change without notice: one class (spark.SparkInternals) is"
                        + " the file to check on a Spark upgrade");
        rule.check(main);
    }

    @Test
    void nativeCodeIsCalledOnlyByItsOwners() {
        nativeFence().check(main);
    }

    /**
     * No class but model.HostBlas and model.HostOps (with their nested classes) reaches native code: libnd4j's
     * NativeOps, JavaCPP and its presets (OpenBLAS), JNA, or method handles (how HostOps reaches a CPU-backend-only
     * accessor). Lambdas and string concatenation compile to invokedynamic, which is no dependency on these.
     */
    static ArchRule nativeFence() {
        return noClasses().that().haveNameNotMatching(NATIVE_OWNERS)
                .should().dependOnClassesThat().resideInAnyPackage("org.nd4j.nativeblas..", "org.bytedeco..",
                        "com.sun.jna..")
                .orShould().dependOnClassesThat().haveNameMatching("java\\.lang\\.invoke\\.MethodHandle.*")
                .because("native calls depend on ND4J's and OpenBLAS's internals (loop numbers, buffer classes,"
                        + " library names), which change without notice: in two classes, they are the files to check"
                        + " on an ND4J, DL4J or OpenBLAS upgrade");
    }

    @Test
    void noBarrierTaskContextCompanion() {
        noClasses().should().callMethod(org.apache.spark.BarrierTaskContext.class, "get")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("org.apache.spark.BarrierTaskContext$")
                .because("its companion object starts a JVM-wide non-daemon Timer that nothing stops: a user's"
                        + " program that ran a barrier stage in local mode would never exit; cast TaskContext.get()")
                .check(main);
    }

    @Test
    void onlyTheEntryPointEndsTheJvm() {
        noClasses().that().doNotHaveFullyQualifiedName("io.github.sparkdropout.cli.Main")
                .should().callMethod(System.class, "exit", int.class)
                .because("under spark-submit's cluster deploy mode an exit is an application failure")
                .check(main);
    }
}
