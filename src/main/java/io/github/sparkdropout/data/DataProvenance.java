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

    /** Just what {@code p} says, without whatever else it holds (a split's images, which the run lets go of). */
    static DataProvenance copyOf(DataProvenance p) {
        return new Recorded(p.count(), p.imagesSha256(), p.labelsSha256(), p.official());
    }

    /** A provenance and nothing else. */
    record Recorded(int count, String imagesSha256, String labelsSha256, boolean official) implements DataProvenance {
    }
}
