package io.github.sparkdropout.train.aggregate;

import java.io.Serializable;

/**
 * What one worker brings to an averaging round: its parameters after the round's steps (null when it had no data
 * left this round), how many steps it took and on how many examples.
 */
public record Contribution(float[] params, int steps, long examples) implements Serializable {
    /** A worker that ran out of data: it joins the round but adds nothing to the mean. */
    public static Contribution none() {
        return new Contribution(null, 0, 0);
    }

    public boolean trained() {
        return steps > 0;
    }
}
