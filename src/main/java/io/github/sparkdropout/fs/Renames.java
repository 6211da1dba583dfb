package io.github.sparkdropout.fs;

import org.apache.hadoop.fs.FSError;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.UnsupportedFileSystemException;

import java.io.File;
import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.StandardCopyOption;

/** How a file the job wrote under a private name becomes visible, and what a failed write is. */
public final class Renames {
    private Renames() {
    }

    /**
     * Renames {@code from} over {@code to}, replacing it: in one step where the filesystem can (rename(2) on a raw
     * local filesystem, {@code FileContext} with OVERWRITE on HDFS and the checksummed local one), else by delete
     * and rename (the file is briefly absent).
     */
    public static void replace(FileSystem fs, Path from, Path to) throws IOException {
        if (fs instanceof RawLocalFileSystem) {
            if (!fs.rename(from, to)) {
                throw new IOException("rename to " + to + " failed");
            }
            return;
        }
        try {
            FileContext.getFileContext(fs.getUri(), fs.getConf()).rename(fs.makeQualified(from), fs.makeQualified(to),
                    Options.Rename.OVERWRITE);
        } catch (UnsupportedOperationException | UnsupportedFileSystemException noContext) { // e.g. gs://
            fs.delete(to, false);
            if (!fs.rename(from, to)) {
                throw new IOException("rename to " + to + " failed");
            }
        }
    }

    /**
     * Renames {@code from} to {@code to} unless something is at {@code to} already; false if so. In one step where
     * the filesystem can: rename(2) locally (Hadoop's local rename checks and then, failing, copies into an existing
     * directory; rename(2) refuses a directory that holds files), {@code FileContext} without OVERWRITE on HDFS;
     * elsewhere a check, then the rename.
     */
    public static boolean moveUnlessTaken(FileSystem fs, Path from, Path to) throws IOException {
        File target = localFile(fs, to);
        if (target != null) {
            if (Files.exists(target.toPath(), LinkOption.NOFOLLOW_LINKS)) {
                return false;
            }
            try {
                Files.move(localFile(fs, from).toPath(), target.toPath(), StandardCopyOption.ATOMIC_MOVE);
                return true;
            } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
                return false;
            }
        }
        FileContext files;
        try {
            files = FileContext.getFileContext(fs.getUri(), fs.getConf());
        } catch (UnsupportedFileSystemException e) { // no atomic rename there: check, then rename
            if (fs.exists(to)) {
                return false;
            }
            if (!fs.rename(from, to)) {
                throw new IOException("rename of " + from + " to " + to + " failed");
            }
            return true;
        }
        try {
            files.rename(fs.makeQualified(from), fs.makeQualified(to), Options.Rename.NONE);
            return true;
        } catch (org.apache.hadoop.fs.FileAlreadyExistsException e) {
            return false;
        }
    }

    /** {@code p} as a local file, if {@code fs} is the local filesystem; else null. */
    private static File localFile(FileSystem fs, Path p) {
        return fs instanceof LocalFileSystem l ? l.pathToFile(p)
                : fs instanceof RawLocalFileSystem r ? r.pathToFile(p) : null;
    }

    /**
     * The I/O failure inside {@code e}: Hadoop's local filesystem reports a failed write (a full disk) as
     * {@link FSError}, an Error that passes any {@code catch (Exception)}.
     */
    public static IOException writeFailure(FSError e) {
        return e.getCause() instanceof IOException io ? io : new IOException(e.getMessage(), e);
    }
}
