package io.raftmq.broker.kafka;

import io.netty.channel.DefaultFileRegion;
import java.nio.channels.FileChannel;

/**
 * A region of a segment file written to a socket as it is: epoll sends a {@link DefaultFileRegion}
 * with sendfile, NIO with {@link FileChannel#transferTo}. Unlike its parent, releasing it leaves
 * the file open: a segment's channel belongs to the log, is shared by every reader, and stays open
 * after the answer is sent.
 */
final class LogSliceRegion extends DefaultFileRegion {

    LogSliceRegion(FileChannel channel, long position, long count) {
        super(channel, position, count);
    }

    @Override
    protected void deallocate() {
        // Nothing to free; the log closes the file (see the class comment).
    }
}
