package io.github.sparkdropout.data;

/**
 * Input data the job cannot use (a missing, truncated or corrupt file, inconsistent counts, a label out of range).
 * Its message is one line naming the file and the problem; the CLI prints it and exits 2, before any training.
 */
public class DataException extends RuntimeException {
    public DataException(String message) {
        super(message);
    }
}
