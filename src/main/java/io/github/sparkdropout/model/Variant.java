package io.github.sparkdropout.model;

/** The book's two programs (D2L 4.6): a from-scratch dropout layer, or the framework's built-in one. */
public enum Variant {
    /** Our {@link InvertedDropout} (the seed's dropout_layer); PyTorch-default U(-1/sqrt(fan_in), 1/sqrt(fan_in)) init. */
    SCRATCH,
    /** DL4J's built-in {@code Dropout}; weights N(0, 0.01), biases 0. */
    CONCISE
}
