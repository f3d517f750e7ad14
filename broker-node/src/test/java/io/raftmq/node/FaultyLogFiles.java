package io.raftmq.node;

import io.raftmq.common.HookedFileChannel;
import io.raftmq.storage.LogEnvironment;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A file opener for a node's partition logs whose channels fail every write and fsync with
 * "No space left on device" once told to, for files under one directory name (one partition's
 * log), as a full or failing disk does. Channels opened before keep failing too.
 */
final class FaultyLogFiles implements LogEnvironment.FileOpener {
    /** The partition directory name ("orders-0") whose files fail; null: none. */
    private final AtomicReference<String> failing = new AtomicReference<>();

    void failLog(String partitionDirName) {
        failing.set(partitionDirName);
    }

    @Override
    public FileChannel open(Path path, OpenOption... options) throws IOException {
        return new HookedFileChannel(FileChannel.open(path, options), () -> check(path), () -> check(path));
    }

    private void check(Path path) throws IOException {
        String dir = failing.get();
        if (dir != null && (path.getFileName().toString().equals(dir)
                || (path.getParent() != null && path.getParent().getFileName().toString().equals(dir)))) {
            throw new IOException("No space left on device (injected) writing " + path);
        }
    }
}
