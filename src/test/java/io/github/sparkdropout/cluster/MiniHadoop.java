package io.github.sparkdropout.cluster;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.MiniYARNCluster;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throw-away HDFS (one NameNode, one DataNode) and YARN (one ResourceManager, one NodeManager) in this JVM, on
 * 127.0.0.1, as Spark's own YARN tests run them, with their client configuration written to a directory that
 * {@code spark-submit} reads as {@code HADOOP_CONF_DIR}. The NodeManager launches containers as real JVMs.
 */
final class MiniHadoop implements AutoCloseable {
    /** Memory the NodeManager offers its containers: an application master and two executors of 1 GB each. */
    static final int NODE_MEMORY_MB = 8192;

    private final MiniDFSCluster dfs;
    private final MiniYARNCluster yarn;
    private final Path confDir;

    private MiniHadoop(MiniDFSCluster dfs, MiniYARNCluster yarn, Path confDir) {
        this.dfs = dfs;
        this.yarn = yarn;
        this.confDir = confDir;
    }

    static MiniHadoop start(Path workDir) throws IOException, InterruptedException {
        Configuration base = new Configuration();
        base.set("hadoop.tmp.dir", workDir.resolve("hadoop-tmp").toString());
        base.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, workDir.resolve("dfs").toString());
        MiniDFSCluster dfs = new MiniDFSCluster.Builder(base).numDataNodes(1).build();
        MiniYARNCluster yarn = null;
        try {
            dfs.waitActive();
            YarnConfiguration conf = new YarnConfiguration(dfs.getConfiguration(0));
            conf.set(YarnConfiguration.RM_HOSTNAME, "127.0.0.1");
            conf.setInt(YarnConfiguration.NM_PMEM_MB, NODE_MEMORY_MB);
            conf.setInt("yarn.minicluster.yarn.nodemanager.resource.memory-mb", NODE_MEMORY_MB); // or it uses 4 GB
            conf.setInt(YarnConfiguration.NM_VCORES, 8);
            conf.setInt(YarnConfiguration.RM_SCHEDULER_MINIMUM_ALLOCATION_MB, 256);
            // Java reserves far more virtual memory than it uses; the physical-memory check stays on, so a container
            // that outgrows its memory plus overhead is killed as it would be on a real cluster
            conf.setBoolean(YarnConfiguration.NM_VMEM_CHECK_ENABLED, false);
            conf.set("yarn.nodemanager.disk-health-checker.max-disk-utilization-per-disk-percentage", "100.0");
            // hadoop-client-minicluster ships no capacity-scheduler.xml
            conf.set("yarn.scheduler.capacity.root.queues", "default");
            conf.setInt("yarn.scheduler.capacity.root.default.capacity", 100);
            conf.setInt("yarn.scheduler.capacity.root.default.maximum-capacity", 100);
            conf.setFloat("yarn.scheduler.capacity.root.default.user-limit-factor", 1);
            conf.set("yarn.scheduler.capacity.root.default.state", "RUNNING");
            conf.set("yarn.scheduler.capacity.root.default.acl_submit_applications", "*");
            conf.setFloat("yarn.scheduler.capacity.maximum-am-resource-percent", 0.5f);
            conf.setInt("yarn.scheduler.capacity.node-locality-delay", -1);
            yarn = new MiniYARNCluster("sparkdropout", 1, 1, 1);
            yarn.init(conf);
            yarn.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (yarn.getConfig().get(YarnConfiguration.RM_ADDRESS).endsWith(":0")) { // the RM sets its port late
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the ResourceManager did not publish its address");
                }
                Thread.sleep(100);
            }
            Path confDir = Files.createDirectories(workDir.resolve("hadoop-conf"));
            // what a cluster's client configuration holds: where HDFS and the ResourceManager are (the whole
            // minicluster configuration would hand clients test-only classes, e.g. a static rack mapping)
            Configuration core = new Configuration(false);
            core.set("fs.defaultFS", dfs.getURI().toString());
            write(core, confDir.resolve("core-site.xml"));
            write(new Configuration(false), confDir.resolve("hdfs-site.xml"));
            Configuration yarnSite = new Configuration(false);
            for (Map.Entry<String, String> e : yarn.getConfig()) {
                if (e.getKey().startsWith("yarn.resourcemanager.")) {
                    yarnSite.set(e.getKey(), e.getValue());
                }
            }
            write(yarnSite, confDir.resolve("yarn-site.xml"));
            return new MiniHadoop(dfs, yarn, confDir);
        } catch (IOException | InterruptedException | RuntimeException e) {
            if (yarn != null) {
                yarn.stop();
            }
            dfs.shutdown();
            throw e;
        }
    }

    private static void write(Configuration conf, Path file) throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            conf.writeXml(out);
        }
    }

    /** The directory to hand to spark-submit as {@code HADOOP_CONF_DIR}. */
    Path confDir() {
        return confDir;
    }

    /** {@code hdfs://127.0.0.1:PORT} + {@code path}. */
    String uri(String path) {
        return dfs.getURI() + path;
    }

    FileSystem fs() throws IOException {
        return dfs.getFileSystem();
    }

    YarnConfiguration yarnConfig() {
        return new YarnConfiguration(yarn.getConfig());
    }

    /** Copies the files of a local directory into {@code hdfsDir}. */
    void put(Path localDir, String hdfsDir) throws IOException {
        try (Stream<Path> files = Files.list(localDir)) {
            for (Path f : files.toList()) {
                fs().copyFromLocalFile(new org.apache.hadoop.fs.Path(f.toUri()), new org.apache.hadoop.fs.Path(
                        hdfsDir, f.getFileName().toString()));
            }
        }
    }

    /** The NodeManager's container log files named {@code name} ("stdout", "stderr") of one application. */
    List<Path> containerLogs(String applicationId, String name) throws IOException {
        List<Path> out = new ArrayList<>();
        for (String dir : yarn.getNodeManager(0).getConfig().getTrimmedStrings(YarnConfiguration.NM_LOG_DIRS)) {
            Path app = Path.of(dir.replaceFirst("^file:", ""), applicationId);
            if (Files.isDirectory(app)) {
                try (Stream<Path> logs = Files.walk(app)) {
                    logs.filter(p -> p.getFileName().toString().equals(name)).sorted().forEach(out::add);
                }
            }
        }
        return out;
    }

    @Override
    public void close() {
        try {
            yarn.stop();
        } finally {
            dfs.shutdown();
        }
    }
}
