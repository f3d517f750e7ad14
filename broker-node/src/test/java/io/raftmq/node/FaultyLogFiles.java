package io.raftmq.node;

import io.raftmq.storage.LogEnvironment;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
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
        return new Channel(FileChannel.open(path, options), path);
    }

    private void check(Path path) throws IOException {
        String dir = failing.get();
        if (dir != null && (path.getFileName().toString().equals(dir)
                || (path.getParent() != null && path.getParent().getFileName().toString().equals(dir)))) {
            throw new IOException("No space left on device (injected) writing " + path);
        }
    }

    private final class Channel extends FileChannel {
        private final FileChannel delegate;
        private final Path path;

        Channel(FileChannel delegate, Path path) {
            this.delegate = delegate;
            this.path = path;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return delegate.read(dst);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            return delegate.read(dsts, offset, length);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            check(path);
            return delegate.write(src);
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            check(path);
            return delegate.write(srcs, offset, length);
        }

        @Override
        public long position() throws IOException {
            return delegate.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            delegate.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return delegate.size();
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            check(path);
            delegate.truncate(size);
            return this;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            check(path);
            delegate.force(metaData);
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
            return delegate.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
            check(path);
            return delegate.transferFrom(src, position, count);
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return delegate.read(dst, position);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            check(path);
            return delegate.write(src, position);
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
            return delegate.map(mode, position, size);
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) throws IOException {
            return delegate.lock(position, size, shared);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return delegate.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            delegate.close();
        }
    }
}
