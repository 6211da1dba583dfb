package io.github.sparkdropout.spark;

import org.junit.jupiter.api.Test;

import java.io.Serializable;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Messages to and from a remote endpoint carry their float arrays as packed bytes: every value must survive. */
class EndpointMessagesTest {
    record Message(int round, float[] params, float[] none, String note) implements Serializable {
    }

    @Test
    void floatArraysArriveBitForBit() {
        float[] params = new float[269_322];
        for (int i = 0; i < params.length; i++) {
            params[i] = (float) Math.sin(i) * (i % 7 == 0 ? 1e-40f : 3.5f); // subnormals too
        }
        params[0] = Float.NaN;
        params[1] = -0.0f;
        params[2] = Float.NEGATIVE_INFINITY;
        params[3] = Float.MAX_VALUE;
        Message back = (Message) SparkInternals.overTheWire(new Message(7, params, null, "x"));
        assertEquals(7, back.round());
        assertEquals("x", back.note());
        assertNull(back.none());
        assertEquals(params.length, back.params().length);
        for (int i = 0; i < params.length; i++) {
            assertEquals(Float.floatToRawIntBits(params[i]), Float.floatToRawIntBits(back.params()[i]), "value " + i);
        }
        assertArrayEquals(new float[0], ((Message) SparkInternals.overTheWire(new Message(0, new float[0], null,
                null))).params());
    }
}
