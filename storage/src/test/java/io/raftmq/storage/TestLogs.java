package io.raftmq.storage;

import io.raftmq.common.Time;
import io.raftmq.protocol.record.CompressionType;
import io.raftmq.protocol.record.RecordBatch;
import io.raftmq.protocol.record.RecordBatchBuilder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/** Test support: batches, environments with fault injection, reading a whole log back. */
final class TestLogs {
    private TestLogs() {}

    static final String SCHEDULER_THREAD = "test-log-scheduler";

    /** An environment whose channels count fsyncs and can be told to fail. */
    static final class Env implements AutoCloseable {
        final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2, r -> {
            Thread t = new Thread(r, SCHEDULER_THREAD);
            t.setDaemon(true);
            return t;
        });
        final AtomicInteger forces = new AtomicInteger();
        final AtomicBoolean failWrites = new AtomicBoolean();
        final AtomicBoolean failForces = new AtomicBoolean();
        final List<IOException> offline = new CopyOnWriteArrayList<>();
        /** Directories fsynced (through the environment's file opener), in order. */
        final List<Path> directorySyncs = new CopyOnWriteArrayList<>();
        /** While set, fsyncs on the scheduler's threads wait for it to open (a stalled disk); others pass. */
        volatile CountDownLatch stallScheduledForces;
        /** Released once each time a scheduler fsync starts waiting on {@link #stallScheduledForces}. */
        final Semaphore stalledForces = new Semaphore(0);
        final LogEnvironment environment;

        Env(Time time) {
            environment = new LogEnvironment(time, scheduler, (dir, cause) -> offline.add(cause),
                    (path, options) -> new FaultyChannel(FileChannel.open(path, options), this, path));
        }

        @Override
        public void close() {
            scheduler.shutdownNow();
        }
    }

    static LogConfig config(String... keyValues) {
        Map<String, String> values = new java.util.HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            values.put(keyValues[i], keyValues[i + 1]);
        }
        return LogConfig.of(values);
    }

    /** A batch of {@code records} records with values of {@code valueBytes} bytes. */
    static ByteBuffer batch(int records, int valueBytes, long timestamp) {
        return batch(CompressionType.NONE, records, valueBytes, timestamp);
    }

    static ByteBuffer batch(CompressionType compression, int records, int valueBytes, long timestamp) {
        RecordBatchBuilder builder = new RecordBatchBuilder(compression, records * (valueBytes + 16));
        for (int i = 0; i < records; i++) {
            byte[] value = new byte[valueBytes];
            for (int j = 0; j < valueBytes; j++) {
                value[j] = (byte) (i * 31 + j);
            }
            builder.append(timestamp + i, ("k" + i).getBytes(), value);
        }
        return builder.build();
    }

    /** Every batch of the log from its start, read as a consumer would (no upper bound). */
    static List<RecordBatch> readAll(PartitionLog log) throws IOException {
        List<RecordBatch> out = new ArrayList<>();
        long offset = log.logStartOffset();
        while (offset < log.logEndOffset()) {
            ReadResult result = log.read(offset, 64 * 1024, Long.MAX_VALUE, true);
            if (!(result instanceof ReadResult.Slice slice) || slice.records().isEmpty()) {
                throw new AssertionError("could not read offset " + offset + ": " + result);
            }
            ByteBuffer bytes = slice.records().read();
            for (RecordBatch batch : RecordBatch.readAll(bytes)) {
                batch.ensureValid();
                if (batch.baseOffset() > offset && out.size() > 0) {
                    throw new AssertionError("gap before offset " + batch.baseOffset());
                }
                out.add(batch);
                offset = batch.nextOffset();
            }
        }
        return out;
    }

    /** A FileChannel that delegates, counts fsyncs, and fails writes or fsyncs when told. */
    static final class FaultyChannel extends FileChannel {
        private final FileChannel delegate;
        private final Env env;
        private final boolean directory;
        private final Path path;

        FaultyChannel(FileChannel delegate, Env env, Path path) {
            this.delegate = delegate;
            this.env = env;
            this.path = path;
            this.directory = Files.isDirectory(path);
        }

        private void maybeFailWrite() throws IOException {
            if (env.failWrites.get()) {
                throw new IOException("injected write failure");
            }
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
            maybeFailWrite();
            return delegate.write(src);
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            maybeFailWrite();
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
            maybeFailWrite();
            delegate.truncate(size);
            return this;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            CountDownLatch stall = env.stallScheduledForces;
            if (stall != null && Thread.currentThread().getName().startsWith(SCHEDULER_THREAD)) {
                env.stalledForces.release();
                try {
                    stall.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while stalled", e);
                }
            }
            if (env.failForces.get()) {
                throw new IOException("injected fsync failure");
            }
            if (directory) {
                env.directorySyncs.add(path);
            } else {
                env.forces.incrementAndGet();
            }
            delegate.force(metaData);
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
            return delegate.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
            maybeFailWrite();
            return delegate.transferFrom(src, position, count);
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return delegate.read(dst, position);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            maybeFailWrite();
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
