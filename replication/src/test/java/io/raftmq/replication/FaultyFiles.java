package io.raftmq.replication;

import io.raftmq.common.HookedFileChannel;
import io.raftmq.storage.LogEnvironment;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;

/**
 * A {@link LogEnvironment.FileOpener} for tests whose channels run a hook before every write and
 * every fsync: a hook may wait (a stalled disk) or throw (a failed one). Hooks are read on each
 * call, so a test changes them at any time.
 */
final class FaultyFiles implements LogEnvironment.FileOpener {

    /** Runs before a write or fsync; throws to fail it. */
    interface Hook {
        void run() throws IOException;

        Hook NONE = () -> { };
    }

    volatile Hook beforeWrite = Hook.NONE;
    volatile Hook beforeForce = Hook.NONE;

    @Override
    public FileChannel open(Path path, OpenOption... options) throws IOException {
        return new HookedFileChannel(FileChannel.open(path, options), () -> beforeWrite.run(),
                () -> beforeForce.run());
    }
}
