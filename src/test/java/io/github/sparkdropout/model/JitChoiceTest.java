package io.github.sparkdropout.model;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Our classes get one compiler directive, C2 excluded, once per JVM; HotSpot reports it back. */
class JitChoiceTest {
    private static int ours(String directives) {
        return directives.split("matching: " + java.util.regex.Pattern.quote(JitChoice.PATTERN), -1).length - 1;
    }

    @Test
    void oneDirectiveExcludesC2ForOurClassesOnly() throws Exception {
        JitChoice.ourCodeOnC1();
        JitChoice.ourCodeOnC1();
        String directives = JitChoice.directives();
        assertEquals(1, ours(directives), "added once per JVM:\n" + directives);
        String mine = directives.substring(directives.indexOf("matching: " + JitChoice.PATTERN));
        mine = mine.substring(0, mine.indexOf("Directive:") < 0 ? mine.length() : mine.indexOf("Directive:"));
        String c2 = mine.substring(mine.indexOf("c2 directives:"));
        assertTrue(c2.contains("Exclude:true"), "C2 excluded for our classes:\n" + mine);
        assertTrue(directives.contains("matching: *.*"), "everything else keeps the default:\n" + directives);
    }
}
