package io.raftmq.storage;

import io.raftmq.common.Time;
import io.raftmq.protocol.record.CompressionType;
import io.raftmq.protocol.record.RecordBatch;
import io.raftmq.protocol.record.RecordBatchBuilder;
import io.raftmq.protocol.record.TimestampType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Append and read throughput of a partition log, beside {@code dd conv=fdatasync} of the same
 * volume in the same run. Prints figures; asserts nothing. Run with
 * {@code mvn -B -pl storage -am test -Pbenchmark [-Dbench.mib=1024] [-Dbench.dir=/path]}.
 */
@Tag("benchmark")
class StorageBenchmark {
    private static final int BATCH_BYTES = 16 * 1024;

    private final long volumeBytes = Long.getLong("bench.mib", 1024) * 1024 * 1024;
    private final Path base = Path.of(System.getProperty("bench.dir", "target/storage-bench"));

    private static ByteBuffer batchOf(int recordBytes) {
        int records = Math.max(1, (BATCH_BYTES - 61) / (recordBytes + 10));
        RecordBatchBuilder builder = new RecordBatchBuilder(CompressionType.NONE, BATCH_BYTES);
        byte[] value = new byte[recordBytes];
        for (int i = 0; i < records; i++) {
            value[i % recordBytes] = (byte) i;
            builder.append(System.currentTimeMillis(), null, value);
        }
        return builder.build();
    }

    @Test
    void appendAndReadThroughput() throws Exception {
        Files.createDirectories(base);
        ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(4);
        LogEnvironment env = new LogEnvironment(Time.SYSTEM, scheduler, (dir, e) -> { });
        List<String> rows = new ArrayList<>();
        try {
            double dd = ddFdatasync();
            rows.add(String.format("%-46s %10.0f MB/s", "dd bs=16k conv=fdatasync (same volume)", dd));
            for (int recordBytes : new int[] {100, 1024}) {
                ByteBuffer template = batchOf(recordBytes);
                String what = recordBytes + " B records, 16 KiB batches";
                Path dir = fresh("os-" + recordBytes);
                warmUp(env, template, "os", 1);
                PartitionLog log = PartitionLog.open(dir, TestLogs.config("flush.mode", "os"), env);
                double pageCache = append(log, template, 1, false);
                rows.add(String.format("%-46s %10.0f MB/s", "append, page cache, " + what, pageCache));
                double readHeap = read(log, false);
                rows.add(String.format("%-46s %10.0f MB/s", "read into heap, " + what, readHeap));
                double readTransfer = read(log, true);
                rows.add(String.format("%-46s %10.0f MB/s", "read by transferTo, " + what, readTransfer));
                log.close();
                delete(dir);
                for (int appenders : new int[] {1, 4}) {
                    warmUp(env, template, "group", appenders);
                    Path pdir = fresh("pipelined-" + recordBytes + "-" + appenders);
                    PartitionLog plog = PartitionLog.open(pdir, TestLogs.config("flush.mode", "group"), env);
                    double rate = appendPipelined(plog, template, appenders);
                    rows.add(String.format("%-46s %10.0f MB/s  (%.0f%% of dd)", "append + fsync, group commit, "
                            + appenders + " pipelined appender(s), " + recordBytes + " B", rate, 100 * rate / dd));
                    plog.close();
                    delete(pdir);
                }
                for (int appenders : new int[] {1, 4, 16, 64}) {
                    warmUp(env, template, "group", appenders);
                    Path gdir = fresh("group-" + recordBytes + "-" + appenders);
                    PartitionLog glog = PartitionLog.open(gdir, TestLogs.config("flush.mode", "group"), env);
                    double rate = append(glog, template, appenders, true);
                    rows.add(String.format("%-46s %10.0f MB/s  (%.0f%% of dd)", "append + fsync, group commit, "
                            + appenders + " waiting appender(s), " + recordBytes + " B", rate, 100 * rate / dd));
                    glog.close();
                    delete(gdir);
                }
            }
        } finally {
            scheduler.shutdownNow();
        }
        System.out.printf("%nstorage benchmark, %d MiB per case, %d cores, directory %s%n", volumeBytes >> 20,
                Runtime.getRuntime().availableProcessors(), base.toAbsolutePath());
        rows.forEach(System.out::println);
    }

    /**
     * What the idempotent-producer check costs a leader append: small batches (10 records of 100 B)
     * into the page cache, appended from one thread, timing only {@code appendAsLeader}. Plain
     * batches against batches of 1 producer and of 1000 producers (round robin) with sequences.
     * Run alone with {@code -Dtest=StorageBenchmark#idempotentAppendCost}.
     */
    @Test
    void idempotentAppendCost() throws Exception {
        Files.createDirectories(base);
        ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
        LogEnvironment env = new LogEnvironment(Time.SYSTEM, scheduler, (dir, e) -> { });
        int appends = Integer.getInteger("bench.appends", 300_000);
        List<String> rows = new ArrayList<>();
        try {
            for (int round = 0; round < 5; round++) {
                for (int producers : new int[] {0, 1, 1000}) {
                    Path dir = fresh("idempotent-" + producers);
                    PartitionLog log = PartitionLog.open(dir, TestLogs.config("flush.mode", "os"), env);
                    double nsPerAppend = appendSmallBatches(log, producers, appends);
                    if (round > 0) { // round 0 warms the JIT
                        rows.add(String.format("round %d, %-34s %8.0f ns CPU/append  %8.0f appends/s per core", round,
                                producers == 0 ? "plain batches" : producers + " idempotent producer(s)",
                                nsPerAppend, 1e9 / nsPerAppend));
                    }
                    log.close();
                    delete(dir);
                }
            }
        } finally {
            scheduler.shutdownNow();
        }
        for (int producers : new int[] {1, 1000}) {
            for (int round = 0; round < 3; round++) {
                double ns = checkOnly(root("check-only"), producers, 2_000_000);
                if (round > 0) {
                    rows.add(String.format("check + state update only (no I/O), %4d producer(s): %6.1f ns CPU/batch",
                            producers, ns));
                }
            }
        }
        System.out.printf("%nidempotence check cost, %d appends of 10 x 100 B records per case, %d cores%n",
                appends, Runtime.getRuntime().availableProcessors());
        rows.forEach(System.out::println);
    }

    private Path root(String name) throws IOException {
        return Files.createDirectories(fresh(name));
    }

    /** Mean ns of {@link ProducerStateManager#checkLeaderAppend} plus {@code onBatchAppended} per batch. */
    private static double checkOnly(Path dir, int producers, int batches) {
        RecordBatchBuilder builder = new RecordBatchBuilder(CompressionType.NONE, TimestampType.CREATE_TIME, 0, 0,
                (short) 0, 0, RecordBatch.NO_PARTITION_LEADER_EPOCH, RecordBatch.NO_TIMESTAMP, 2048);
        for (int i = 0; i < 10; i++) {
            builder.append(1L, null, new byte[100]);
        }
        ByteBuffer bytes = builder.build();
        RecordBatch batch = RecordBatch.readFrom(bytes.duplicate());
        List<RecordBatch> one = List.of(batch);
        ProducerStateManager state = new ProducerStateManager(dir, 0);
        int[] sequences = new int[producers];
        long offset = 0;
        // Thread CPU time, not wall time: the machine is shared, and this is what the check costs.
        java.lang.management.ThreadMXBean cpu = java.lang.management.ManagementFactory.getThreadMXBean();
        long start = cpu.getCurrentThreadCpuTime();
        for (int i = 0; i < batches; i++) {
            int producer = i % producers;
            bytes.putLong(RecordBatch.PRODUCER_ID_OFFSET, producer);
            bytes.putInt(RecordBatch.BASE_SEQUENCE_OFFSET, sequences[producer]);
            if (!(state.checkLeaderAppend(one) instanceof ProducerStateManager.Check.Accept)) {
                throw new IllegalStateException("refused at " + i);
            }
            batch.setBaseOffset(offset);
            state.onBatchAppended(batch);
            sequences[producer] += 10;
            offset += 10;
        }
        return (cpu.getCurrentThreadCpuTime() - start) / (double) batches;
    }

    /** Mean ns per appendAsLeader; {@code producers == 0}: batches without a producer id. */
    private static double appendSmallBatches(PartitionLog log, int producers, int appends) {
        RecordBatchBuilder builder = new RecordBatchBuilder(CompressionType.NONE, TimestampType.CREATE_TIME, 0,
                producers == 0 ? RecordBatch.NO_PRODUCER_ID : 0, producers == 0 ? RecordBatch.NO_PRODUCER_EPOCH : 0,
                producers == 0 ? RecordBatch.NO_SEQUENCE : 0, RecordBatch.NO_PARTITION_LEADER_EPOCH,
                RecordBatch.NO_TIMESTAMP, 2048);
        byte[] value = new byte[100];
        for (int i = 0; i < 10; i++) {
            builder.append(System.currentTimeMillis(), null, value);
        }
        ByteBuffer template = builder.build();
        ByteBuffer mine = ByteBuffer.allocate(template.remaining());
        int[] sequences = new int[Math.max(1, producers)];
        java.lang.management.ThreadMXBean cpu = java.lang.management.ManagementFactory.getThreadMXBean();
        long nanos = 0;
        for (int i = 0; i < appends; i++) {
            mine.clear();
            mine.put(template.duplicate()).flip();
            if (producers > 0) {
                int producer = i % producers;
                mine.putLong(RecordBatch.PRODUCER_ID_OFFSET, producer);
                mine.putInt(RecordBatch.BASE_SEQUENCE_OFFSET, sequences[producer]);
                sequences[producer] += 10;
                mine.putInt(RecordBatch.CRC_OFFSET, (int) RecordBatch.readFrom(mine.duplicate()).computeChecksum());
            }
            long start = cpu.getCurrentThreadCpuTime(); // CPU time: immune to other work on the machine
            AppendResult result = log.appendAsLeader(mine, 0);
            nanos += cpu.getCurrentThreadCpuTime() - start;
            if (!(result instanceof AppendResult.Appended appended) || appended.duplicate()) {
                throw new IllegalStateException(result.toString());
            }
        }
        return (double) nanos / appends;
    }

    /**
     * A quarter of the volume, discarded: warms the JIT, and makes the page cache reuse memory the
     * machine has already handed out (a VM's first touch of fresh memory is slow).
     */
    private void warmUp(LogEnvironment env, ByteBuffer template, String mode, int appenders) throws Exception {
        Path dir = fresh("warm-up");
        PartitionLog log = PartitionLog.open(dir, TestLogs.config("flush.mode", mode), env);
        long saved = volumeBytes;
        append(log, template, appenders, mode.equals("group"), saved / 4);
        log.close();
        delete(dir);
    }

    private double append(PartitionLog log, ByteBuffer template, int appenders, boolean durable) throws Exception {
        return append(log, template, appenders, durable, volumeBytes);
    }

    /** MB/s appending {@code volume} bytes from {@code appenders} threads; waits for durability if asked. */
    private double append(PartitionLog log, ByteBuffer template, int appenders, boolean durable, long volume)
            throws Exception {
        long perThread = volume / template.remaining() / appenders;
        AtomicLong bytes = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        List<Throwable> errors = new ArrayList<>();
        long start = System.nanoTime();
        for (int t = 0; t < appenders; t++) {
            threads.add(new Thread(() -> {
                ByteBuffer mine = ByteBuffer.allocate(template.remaining()).put(template.duplicate()).flip();
                try {
                    CompletableFuture<Void> last = null;
                    for (long i = 0; i < perThread; i++) {
                        AppendResult result = log.appendAsLeader(mine.duplicate(), 0);
                        if (!(result instanceof AppendResult.Appended appended)) {
                            throw new IllegalStateException(result.toString());
                        }
                        if (durable) {
                            appended.durable().get(30, TimeUnit.SECONDS);
                        }
                        last = appended.durable();
                        bytes.addAndGet(appended.sizeInBytes());
                    }
                    if (last != null) {
                        last.get(30, TimeUnit.SECONDS);
                    }
                } catch (Throwable e) {
                    synchronized (errors) {
                        errors.add(e);
                    }
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        if (!errors.isEmpty()) {
            throw new AssertionError(errors.get(0));
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return bytes.get() / seconds / 1e6;
    }

    /**
     * MB/s of durable appends from appenders that do not wait for each append's fsync before the
     * next (a producer with requests in flight): every append asks for durability, and the time
     * runs until the last append is on disk.
     */
    private double appendPipelined(PartitionLog log, ByteBuffer template, int appenders) throws Exception {
        long perThread = volumeBytes / template.remaining() / appenders;
        List<Thread> threads = new ArrayList<>();
        List<CompletableFuture<Void>> lasts = new java.util.concurrent.CopyOnWriteArrayList<>();
        long start = System.nanoTime();
        for (int t = 0; t < appenders; t++) {
            threads.add(new Thread(() -> {
                ByteBuffer mine = ByteBuffer.allocate(template.remaining()).put(template.duplicate()).flip();
                CompletableFuture<Void> last = null;
                for (long i = 0; i < perThread; i++) {
                    last = ((AppendResult.Appended) log.appendAsLeader(mine.duplicate(), 0)).durable();
                }
                lasts.add(last);
            }));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        for (CompletableFuture<Void> last : lasts) {
            last.get(60, TimeUnit.SECONDS);
        }
        return perThread * appenders * template.remaining() / ((System.nanoTime() - start) / 1e9) / 1e6;
    }

    /** MB/s reading the whole log in 1 MiB slices. */
    private double read(PartitionLog log, boolean transfer) throws IOException {
        long start = System.nanoTime();
        long bytes = 0;
        long offset = log.logStartOffset();
        ByteBuffer buffer = ByteBuffer.allocate(2 * 1024 * 1024);
        WritableByteChannel sink = new WritableByteChannel() {
            @Override
            public int write(ByteBuffer src) {
                int n = src.remaining();
                src.position(src.limit());
                return n;
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {
            }
        };
        while (offset < log.logEndOffset()) {
            LogSlice slice = ((ReadResult.Slice) log.read(offset, 1 << 20, Long.MAX_VALUE, true)).records();
            if (transfer) {
                bytes += slice.transferTo(sink);
            } else {
                buffer.clear();
                slice.readInto(buffer);
                bytes += slice.sizeInBytes();
            }
            offset = slice.nextOffset();
        }
        return bytes / ((System.nanoTime() - start) / 1e9) / 1e6;
    }

    private double ddFdatasync() throws Exception {
        Path file = base.resolve("dd.bin");
        long blocks = volumeBytes / BATCH_BYTES;
        ProcessBuilder dd = new ProcessBuilder("dd", "if=/dev/zero", "of=" + file, "bs=16k", "count=" + blocks,
                "conv=fdatasync").redirectErrorStream(true);
        long start = System.nanoTime();
        Process process = dd.start();
        String output = new String(process.getInputStream().readAllBytes());
        process.waitFor();
        double seconds = (System.nanoTime() - start) / 1e9;
        Files.deleteIfExists(file);
        if (process.exitValue() != 0) {
            throw new IllegalStateException("dd failed: " + output);
        }
        return blocks * BATCH_BYTES / seconds / 1e6;
    }

    private Path fresh(String name) throws IOException {
        Path dir = base.resolve(name);
        delete(dir);
        return dir;
    }

    private static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

}
