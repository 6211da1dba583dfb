package io.github.sparkdropout.data;

/**
 * What a run's metrics rows and checkpoints record about one side of its data (training or evaluation): how many
 * examples and the SHA-256 of their images and labels, so a row says exactly what it was measured on.
 */
public interface DataProvenance {
    int count();

    String imagesSha256();

    String labelsSha256();

    /** The official Fashion-MNIST files (checksums match). */
    boolean official();
}
