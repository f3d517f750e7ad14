package io.raftmq.metadata.jraft;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Creates the metadata quorum's directories ({@code log}, {@code raft_meta}, {@code snapshot} under
 * the metadata directory) and makes their entries durable: a directory entry survives a power loss
 * only once its parent directory is fsynced, so each subdirectory, the metadata directory, the data
 * directory holding it and the data directory's parent are fsynced, on every start (a previous
 * start may have died before its fsyncs). Directories above that are the operator's.
 *
 * <p>What JRaft writes inside them is made durable by JRaft (with {@code syncMeta}: the
 * {@code raft_meta} rename and a snapshot's publishing rename are each followed by an fsync of the
 * parent directory) and by RocksDB (it fsyncs its directory after creating a WAL, SST or MANIFEST
 * file). Stateless; safe from any thread.
 */
final class MetadataDirectories {
    static final List<String> SUBDIRECTORIES = List.of("log", "raft_meta", "snapshot");

    /** Fsyncs one directory; a seam so that tests can record the syncs. */
    @FunctionalInterface
    interface DirectorySync {
        void sync(Path directory) throws IOException;
    }

    /** The real directory fsync: on Linux, force() on a directory opened for reading. */
    static final DirectorySync FSYNC = directory -> {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        }
    };

    private MetadataDirectories() {}

    /**
     * Creates the subdirectories of {@code metadataDir} (and it, and its parents, as needed) and
     * fsyncs each subdirectory, {@code metadataDir}, its parent (the data directory) and that one's
     * parent, children before parents.
     *
     * @throws IOException when a directory cannot be created or fsynced (naming the directory)
     */
    static void createDurably(Path metadataDir, DirectorySync sync) throws IOException {
        Path dir = metadataDir.toAbsolutePath().normalize();
        for (String name : SUBDIRECTORIES) {
            Files.createDirectories(dir.resolve(name));
        }
        for (String name : SUBDIRECTORIES) {
            syncOne(dir.resolve(name), sync);
        }
        Path d = dir;
        for (int level = 0; level < 3 && d != null; level++, d = d.getParent()) {
            syncOne(d, sync);
        }
    }

    private static void syncOne(Path directory, DirectorySync sync) throws IOException {
        try {
            sync.sync(directory);
        } catch (IOException e) {
            throw new IOException("cannot fsync the metadata directory " + directory + ", so its entries would not"
                    + " survive a power loss: " + e, e);
        }
    }
}
