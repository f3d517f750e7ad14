package io.raftmq.storage;

import io.raftmq.common.HookedFileChannel;
import io.raftmq.common.Time;
import io.raftmq.protocol.record.CompressionType;
import io.raftmq.protocol.record.RecordBatch;
import io.raftmq.protocol.record.RecordBatchBuilder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
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
                    (path, options) -> {
                        boolean directory = Files.isDirectory(path);
                        return new HookedFileChannel(FileChannel.open(path, options), this::beforeWrite,
                                () -> beforeForce(path, directory));
                    });
        }

        private void beforeWrite() throws IOException {
            if (failWrites.get()) {
                throw new IOException("injected write failure");
            }
        }

        /** Stalls scheduler fsyncs while told to, fails fsyncs when told, and counts the rest. */
        private void beforeForce(Path path, boolean directory) throws IOException {
            CountDownLatch stall = stallScheduledForces;
            if (stall != null && Thread.currentThread().getName().startsWith(SCHEDULER_THREAD)) {
                stalledForces.release();
                try {
                    stall.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while stalled", e);
                }
            }
            if (failForces.get()) {
                throw new IOException("injected fsync failure");
            }
            if (directory) {
                directorySyncs.add(path);
            } else {
                forces.incrementAndGet();
            }
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

}
