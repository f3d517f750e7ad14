package io.raftmq.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/** Writing small files so that a crash leaves either the old or the new content, never a mix. */
final class Checkpoints {
    private Checkpoints() {}

    /**
     * Writes {@code content} to a temporary file, optionally fsyncs it, and renames it over {@code
     * file} (then fsyncs the directory when {@code sync}).
     */
    static void writeAtomically(Path file, ByteBuffer content, boolean sync) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer bytes = content.duplicate();
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
            if (sync) {
                channel.force(true);
            }
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        if (sync) {
            syncDirectory(file.getParent());
        }
    }

    /** fsyncs a directory, so that file creations, renames and deletions in it are durable. */
    static void syncDirectory(Path dir) throws IOException {
        syncDirectory(dir, FileChannel::open);
    }

    /** {@link #syncDirectory(Path)} through {@code files} (the environment's test seam). */
    static void syncDirectory(Path dir, LogEnvironment.FileOpener files) throws IOException {
        try (FileChannel channel = files.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
