package io.github.sparkdropout.model;

import io.github.sparkdropout.data.FashionMnist;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * A dense dropout MLP's shape: the layer sizes from input to output, as MLlib's {@code layers} gives them, and one
 * drop probability per hidden layer (dropping that layer's activations, training only). At least one hidden
 * layer; at least two classes.
 */
public final class MlpShape implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The book's hidden part (D2L 4.6): two layers of 256. */
    public static final int[] BOOK_HIDDEN = {256, 256};

    private final int[] layers;
    private final double[] dropouts;

    /** {@code layers} (input, hidden..., output) and one drop probability per hidden layer; checked. */
    public MlpShape(int[] layers, double[] dropouts) {
        String problem = problem("layers", layers, "dropouts", dropouts);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        this.layers = layers.clone();
        this.dropouts = dropouts.clone();
    }

    /** What is wrong with {@code layers} on its own (a one-line reason), or null. */
    public static String layersProblem(int[] layers) {
        if (layers.length < 3) {
            return "needs at least 3 sizes (input, a hidden layer, output), got " + layers.length;
        }
        for (int size : layers) {
            if (size < 1) {
                return "has a layer of size " + size + ": every size must be at least 1";
            }
        }
        if (layers[layers.length - 1] < 2) {
            return "ends with " + layers[layers.length - 1] + " output(s): a classifier needs at least 2 classes";
        }
        return null;
    }

    /**
     * What is wrong with {@code layers} and {@code dropouts} together (one line that calls them by the names the
     * caller's user knows them by), or null.
     */
    public static String problem(String layersName, int[] layers, String dropoutsName, double[] dropouts) {
        String p = layersProblem(layers);
        if (p != null) {
            return layersName + " " + text(layers) + " " + p;
        }
        if (dropouts.length != layers.length - 2) {
            return dropoutsName + " " + text(dropouts) + " gives " + dropouts.length + " probabilit"
                    + (dropouts.length == 1 ? "y" : "ies") + " for " + (layers.length - 2) + " hidden layer"
                    + (layers.length == 3 ? "" : "s") + " (" + layersName + " " + text(layers) + "): one per hidden"
                    + " layer";
        }
        for (double d : dropouts) {
            if (!(d >= 0 && d <= 1)) {
                return dropoutsName + " " + text(dropouts) + " has " + d + ": each must be in [0, 1]";
            }
        }
        return null;
    }

    /** The book's network: 784-256-256-10 with drop probabilities {@code p1}, {@code p2} after the hidden layers. */
    public static MlpShape book(double p1, double p2) {
        return new MlpShape(new int[]{FashionMnist.PIXELS, BOOK_HIDDEN[0], BOOK_HIDDEN[1], FashionMnist.CLASSES},
                new double[]{p1, p2});
    }

    /**
     * The default drop probabilities for {@code hiddenLayers}: 0.2 after the first hidden layer, 0.5 after every
     * other, the book's rule of a lower probability nearer the input (its 0.2, 0.5 for two).
     */
    public static double[] defaultDropouts(int hiddenLayers) {
        double[] d = new double[hiddenLayers];
        Arrays.fill(d, 0.5);
        if (hiddenLayers > 0) {
            d[0] = 0.2;
        }
        return d;
    }

    /** The layer sizes, input first. */
    public int[] layers() {
        return layers.clone();
    }

    /** The drop probabilities, one per hidden layer. */
    public double[] dropouts() {
        return dropouts.clone();
    }

    public int inputs() {
        return layers[0];
    }

    public int classes() {
        return layers[layers.length - 1];
    }

    /** Drop probability after hidden layer {@code i} (0-based). */
    public double dropout(int i) {
        return dropouts[i];
    }

    /** Layer sizes as the flag reads them: {@code 784,256,256,10}. */
    public static String text(int[] values) {
        return IntStream.of(values).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    /** Drop probabilities as the flag reads them: {@code 0.2,0.5}. */
    public static String text(double[] values) {
        return Arrays.stream(values).mapToObj(d -> String.format(Locale.ROOT, "%s", d))
                .collect(Collectors.joining(","));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MlpShape s && Arrays.equals(layers, s.layers) && Arrays.equals(dropouts, s.dropouts);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(layers) + Arrays.hashCode(dropouts);
    }

    /** {@code 784-256-256-10 (dropouts 0.2, 0.5)}. */
    @Override
    public String toString() {
        return IntStream.of(layers).mapToObj(Integer::toString).collect(Collectors.joining("-")) + " (dropouts "
                + text(dropouts).replace(",", ", ") + ")";
    }
}
