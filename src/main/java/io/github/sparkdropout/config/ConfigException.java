package io.github.sparkdropout.config;

/** A setting or an input the job cannot accept. Its message is one line naming the problem; the CLI exits 2. */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }
}
