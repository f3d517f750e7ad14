package io.raftmq.node;

import java.io.IOException;
import java.io.StringReader;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Properties;

/**
 * Whose data a data directory holds: {@code <data.dir>/meta.properties}, as Kafka's. Written on a
 * node's first start with its node id, and again with the cluster id once the node learns it
 * (the first active controller chooses it); never changed after.
 *
 * <pre>
 *   version=1
 *   node.id=1
 *   cluster.id=5Jd1nMEsQhGvvbnY5-UcXg
 * </pre>
 *
 * @param clusterId null until the node has learned it
 */
record MetaProperties(int nodeId, String clusterId) {
    static final String FILE = "meta.properties";
    static final int VERSION = 1;

    /** The data directory's meta.properties, or null when there is none. */
    static MetaProperties read(Path dataDir) throws IOException {
        Path file = dataDir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        Properties props = new Properties();
        props.load(new StringReader(Files.readString(file, StandardCharsets.UTF_8)));
        String version = props.getProperty("version");
        String nodeId = props.getProperty("node.id");
        if (!String.valueOf(VERSION).equals(version) || nodeId == null) {
            throw new IOException(file + " is not a raftmq meta.properties of version " + VERSION + " with a node.id"
                    + " (version=" + version + ", node.id=" + nodeId + ")");
        }
        try {
            String clusterId = props.getProperty("cluster.id");
            return new MetaProperties(Integer.parseInt(nodeId.trim()),
                    clusterId == null || clusterId.isBlank() ? null : clusterId.trim());
        } catch (NumberFormatException e) {
            throw new IOException(file + ": node.id '" + nodeId + "' is not a number");
        }
    }

    /** Writes this as the data directory's meta.properties, durably (temporary file, fsync, rename, fsync). */
    void write(Path dataDir) throws IOException {
        StringBuilder text = new StringBuilder("# Whose data this directory holds; written by raftmq, never edit.\n")
                .append("version=").append(VERSION).append('\n')
                .append("node.id=").append(nodeId).append('\n');
        if (clusterId != null) {
            text.append("cluster.id=").append(clusterId).append('\n');
        }
        Path file = dataDir.resolve(FILE);
        Path tmp = dataDir.resolve(FILE + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        try (FileChannel channel = FileChannel.open(dataDir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    MetaProperties withClusterId(String id) {
        return new MetaProperties(nodeId, id);
    }
}
