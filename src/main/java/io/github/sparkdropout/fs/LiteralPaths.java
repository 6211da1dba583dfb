package io.github.sparkdropout.fs;

import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.util.StringUtils;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.List;
import java.util.function.Predicate;

/**
 * A path the user names means that file or directory, whatever characters its name holds: Hadoop's
 * {@code globStatus} and Spark's readers ({@code spark.read().parquet(path)}) take {@code [ ] { } * ? \} as a
 * pattern, so a directory named {@code m[1]} would match {@code m1} instead, or nothing.
 */
public final class LiteralPaths {
    /** What Hadoop's glob syntax gives a meaning (GlobPattern); a backslash before one makes it plain. */
    private static final char[] GLOB_CHARACTERS = {'[', ']', '{', '}', '*', '?', '\\'};

    private LiteralPaths() {
    }

    /**
     * {@code path} as a glob pattern that matches exactly {@code path}: for APIs that glob their argument (Spark's
     * DataFrameReader); {@code FileSystem} calls other than {@code globStatus} take the {@code Path} itself.
     */
    public static String asGlob(Path path) {
        return StringUtils.escapeString(path.toString(), '\\', GLOB_CHARACTERS);
    }

    /**
     * The entries of directory {@code dir} whose names satisfy {@code name}, listed, not globbed; none where
     * {@code dir} does not exist.
     */
    public static List<FileStatus> list(FileSystem fs, Path dir, Predicate<String> name) throws IOException {
        try {
            return List.of(fs.listStatus(dir, p -> name.test(p.getName())));
        } catch (FileNotFoundException e) {
            return List.of();
        }
    }
}
