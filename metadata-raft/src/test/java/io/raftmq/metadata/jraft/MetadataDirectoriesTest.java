package io.raftmq.metadata.jraft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetadataDirectoriesTest {
    @TempDir
    Path root;

    /** Records each directory synced and checks that it existed when it was synced. */
    private static final class RecordingSync implements MetadataDirectories.DirectorySync {
        final List<Path> synced = new ArrayList<>();

        @Override
        public void sync(Path directory) {
            assertTrue(Files.isDirectory(directory), directory + " synced before it exists");
            synced.add(directory);
        }
    }

    private static void assertChainSynced(Path metadataDir, List<Path> synced) {
        Path dir = metadataDir.toAbsolutePath().normalize();
        for (String name : List.of("log", "raft_meta", "snapshot")) {
            assertTrue(synced.contains(dir.resolve(name)), name + " not synced: " + synced);
        }
        for (Path d : List.of(dir, dir.getParent(), dir.getParent().getParent())) {
            assertTrue(synced.contains(d), d + " not synced: " + synced);
        }
    }

    @Test
    void createsTheSubdirectoriesAndSyncsTheChainUpToTheDataDirectorysParent() throws IOException {
        Path metadataDir = root.resolve("data").resolve("metadata");
        RecordingSync sync = new RecordingSync();

        MetadataDirectories.createDurably(metadataDir, sync);

        for (String name : List.of("log", "raft_meta", "snapshot")) {
            assertTrue(Files.isDirectory(metadataDir.resolve(name)), name);
        }
        assertChainSynced(metadataDir, sync.synced);
        // A child's entry is durable only once its parent is synced after it was created: the
        // parents come after the subdirectories.
        Path dir = metadataDir.toAbsolutePath().normalize();
        assertTrue(sync.synced.indexOf(dir) > sync.synced.indexOf(dir.resolve("snapshot")));
        assertTrue(sync.synced.indexOf(dir.getParent()) > sync.synced.indexOf(dir));
    }

    @Test
    void syncsAgainWhenTheDirectoriesAlreadyExist() throws IOException {
        // A start that died between creating and syncing leaves entries that are not durable yet.
        Path metadataDir = root.resolve("data").resolve("metadata");
        for (String name : List.of("log", "raft_meta", "snapshot")) {
            Files.createDirectories(metadataDir.resolve(name));
        }
        RecordingSync sync = new RecordingSync();

        MetadataDirectories.createDurably(metadataDir, sync);

        assertChainSynced(metadataDir, sync.synced);
    }

    @Test
    void aFailedSyncFailsTheStartAndNamesTheDirectory() {
        Path metadataDir = root.resolve("metadata");
        IOException e = assertThrows(IOException.class, () -> MetadataDirectories.createDurably(metadataDir,
                directory -> {
                    if (directory.endsWith("raft_meta")) {
                        throw new IOException("EIO");
                    }
                }));
        assertTrue(e.getMessage().contains(metadataDir.resolve("raft_meta").toAbsolutePath().toString()),
                e.getMessage());
    }

    @Test
    void theRealSyncWorksOnADirectory() throws IOException {
        Path metadataDir = root.resolve("metadata");
        MetadataDirectories.createDurably(metadataDir, MetadataDirectories.FSYNC);
        try (Stream<Path> children = Files.list(metadataDir)) {
            assertEquals(3, children.count());
        }
    }
}
