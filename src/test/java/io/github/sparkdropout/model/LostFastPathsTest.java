package io.github.sparkdropout.model;

import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A lost fast path is a warning naming it, why and what runs instead; once per path in a JVM. */
class LostFastPathsTest {
    /** A logger recording each call as its method name and arguments. */
    private static Logger recording(List<List<Object>> calls) {
        return (Logger) Proxy.newProxyInstance(Logger.class.getClassLoader(), new Class<?>[]{Logger.class},
                (proxy, method, args) -> {
                    List<Object> call = new ArrayList<>(List.of(method.getName()));
                    if (args != null) {
                        for (Object a : args) {
                            call.addAll(a instanceof Object[] varargs ? Arrays.asList(varargs) : List.of(a));
                        }
                    }
                    calls.add(call);
                    return method.getReturnType() == boolean.class ? Boolean.TRUE : null;
                });
    }

    @Test
    void warnsOncePerPath() {
        List<List<Object>> calls = new ArrayList<>();
        Logger log = recording(calls);
        RuntimeException cause = new RuntimeException("no such symbol");
        assertTrue(LostFastPaths.warn(log, "test path A", "it failed", "the slow way", cause));
        assertEquals(1, calls.size());
        List<Object> call = calls.get(0);
        assertEquals("warn", call.get(0));
        String message = (String) call.get(1);
        assertTrue(message.startsWith("fast path lost"), message);
        assertEquals(List.of("test path A", "it failed", "the slow way"), call.subList(2, 5));
        assertSame(cause, call.get(5));

        assertFalse(LostFastPaths.warn(log, "test path A", "it failed again", "the slow way", null));
        assertEquals(1, calls.size(), "the same path again: no second warning");
        assertTrue(LostFastPaths.warn(log, "test path B", "it differs", "the slow way", null));
        assertEquals(2, calls.size());
    }
}
