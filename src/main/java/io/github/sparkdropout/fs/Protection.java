package io.github.sparkdropout.fs;

import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsAction;
import org.apache.hadoop.fs.permission.FsPermission;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * What the job creates is never writable by others, whatever Hadoop's umask ({@code fs.permissions.umask-mode}):
 * a file writable by others can be overwritten, a directory writable by others lets anyone replace the files in it
 * by a rename. Otherwise the filesystem's defaults under that umask hold (022 by default: rw-r--r--, rwxr-xr-x).
 */
public final class Protection {
    private static final FsPermission NOT_WRITABLE_BY_OTHERS = new FsPermission((short) 0002);

    private Protection() {
    }

    /** The permission of a file the job creates on {@code fs}. */
    public static FsPermission file(FileSystem fs) {
        return FsPermission.getFileDefault().applyUMask(FsPermission.getUMask(fs.getConf()))
                .applyUMask(NOT_WRITABLE_BY_OTHERS);
    }

    /** The permission of a directory the job creates on {@code fs}. */
    public static FsPermission directory(FileSystem fs) {
        return FsPermission.getDirDefault().applyUMask(FsPermission.getUMask(fs.getConf()))
                .applyUMask(NOT_WRITABLE_BY_OTHERS);
    }

    /**
     * Creates directory {@code dir} and its missing parents, each with {@link #directory}'s permission (a plain
     * {@code mkdirs}, or the one a {@code create} does for a file's parents, gives them the umask's default, and
     * the local filesystem gives the parents of {@code mkdirs(dir, permission)} that default too). Directories that
     * exist already are left as they are. Returns false, as {@code mkdirs} does, where one could not be created.
     */
    public static boolean mkdirs(FileSystem fs, Path dir) throws IOException {
        Deque<Path> missing = new ArrayDeque<>();
        for (Path p = fs.makeQualified(dir); p != null && !fs.exists(p); p = p.getParent()) {
            missing.push(p);
        }
        FsPermission permission = directory(fs);
        while (!missing.isEmpty()) {
            Path p = missing.pop();
            if (!fs.mkdirs(p, permission)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Takes the others' write permission from {@code root} and everything under it: for what another writer (Spark's
     * output committer) created with the umask's defaults.
     */
    public static void tree(FileSystem fs, Path root) throws IOException {
        FileStatus status = fs.getFileStatus(root);
        FsPermission p = status.getPermission();
        if (p.getOtherAction().implies(FsAction.WRITE)) {
            fs.setPermission(root, new FsPermission(p.getUserAction(), p.getGroupAction(),
                    p.getOtherAction().and(FsAction.READ_EXECUTE), p.getStickyBit()));
        }
        if (status.isDirectory()) {
            for (FileStatus child : fs.listStatus(root)) {
                tree(fs, child.getPath());
            }
        }
    }
}
