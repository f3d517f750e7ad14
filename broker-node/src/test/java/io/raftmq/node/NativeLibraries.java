package io.raftmq.node;

import static java.nio.file.StandardCopyOption.ATOMIC_MOVE;
import static java.nio.file.StandardCopyOption.REPLACE_EXISTING;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.rocksdb.util.Environment;

/**
 * RocksDB's JNI library (JRaft's log store) for node processes started from the packaged jar,
 * extracted once beside the jar, where {@code deploy/cluster.sh} puts it too, for the nodes to load
 * through {@code java.library.path}. Left to itself, RocksDB copies 13 MB out of the jar into
 * /tmp at every start and deletes the copy only at a normal exit: every node a test kills with -9
 * would leave one behind.
 *
 * <p>Stateless; safe from concurrent test JVMs: a library is written under a temporary name and
 * renamed into place, so no process sees half of one.
 */
final class NativeLibraries {
    private NativeLibraries() {}

    /**
     * The directory holding {@code jar}'s RocksDB library for this platform, extracted when missing
     * or older than the jar; empty when the jar has none for this platform (RocksDB then copies it
     * to /tmp, as it would anyway).
     */
    static Optional<Path> rocksDbDirectory(Path jar) throws IOException {
        String name = Environment.getJniLibraryFileName("rocksdb");
        String jarName = jar.getFileName().toString();
        Path dir = jar.resolveSibling(jarName.replaceFirst("\\.jar$", "") + "-native");
        Path library = dir.resolve(name);
        if (Files.isRegularFile(library)
                && Files.getLastModifiedTime(library).compareTo(Files.getLastModifiedTime(jar)) >= 0) {
            return Optional.of(dir);
        }
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            ZipEntry entry = zip.getEntry(name);
            if (entry == null) {
                return Optional.empty();
            }
            Files.createDirectories(dir);
            Path partial = Files.createTempFile(dir, name, ".partial");
            try (InputStream in = zip.getInputStream(entry)) {
                Files.copy(in, partial, REPLACE_EXISTING);
                Files.move(partial, library, REPLACE_EXISTING, ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(partial);
            }
        }
        return Optional.of(dir);
    }
}
