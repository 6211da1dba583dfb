package io.github.sparkdropout.config;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;

/**
 * The command cannot run as the user asked: a bad flag or combination, a run or checkpoint that does not exist, a
 * location that cannot be used. Its message is one line naming the problem; the CLI prints it and exits 2, before
 * anything is written.
 */
public class UsageException extends RuntimeException {
    public UsageException(String message) {
        super(message);
    }

    /**
     * What an I/O failure at a location the user named means to them: refused access, a missing parent, a file
     * where a directory must be or an unknown filesystem are theirs to fix ({@code UsageException}); anything else
     * (a lost connection, a failing disk) is a failure of the job, with its cause for the log.
     */
    public static RuntimeException atLocation(String message, IOException cause) {
        String type = cause.getClass().getName();
        boolean usersToFix = cause instanceof AccessDeniedException || cause instanceof FileNotFoundException
                || cause instanceof java.nio.file.NotDirectoryException
                || cause instanceof java.nio.file.FileSystemException fse
                && "Read-only file system".equals(fse.getReason())
                || type.equals("org.apache.hadoop.security.AccessControlException")
                || type.equals("org.apache.hadoop.fs.ParentNotDirectoryException")
                || type.equals("org.apache.hadoop.fs.FileAlreadyExistsException")
                || type.equals("org.apache.hadoop.fs.UnsupportedFileSystemException")
                || type.equals("org.apache.hadoop.fs.PathAccessDeniedException")
                || type.equals("org.apache.hadoop.fs.PathIsNotDirectoryException");
        return usersToFix ? new UsageException(message + ": " + cause.getMessage())
                : new UncheckedIOException(message + ": " + cause.getMessage(), cause);
    }
}
