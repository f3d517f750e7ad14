package io.raftmq.faults;

import io.raftmq.common.Time;
import io.raftmq.protocol.record.Record;
import io.raftmq.protocol.record.RecordBatch;
import io.raftmq.storage.LogConfig;
import io.raftmq.storage.LogEnvironment;
import io.raftmq.storage.PartitionLog;
import io.raftmq.storage.ReadResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.Stream;

/**
 * Reads one replica's partition log from a stopped node's data directory with the storage module's
 * own reader. It opens a copy, so that recovery (which may truncate a torn tail) leaves the node's
 * files as they were.
 */
final class ReplicaLogs {
    private ReplicaLogs() {}

    /**
     * Offset -> value of every record below {@code upTo} in {@code dataDir/logs/TOPIC-PARTITION};
     * null if the directory does not exist.
     */
    static TreeMap<Long, String> read(Path dataDir, String topic, int partition, long upTo, Path scratch)
            throws IOException {
        Path dir = dataDir.resolve("logs").resolve(topic + "-" + partition);
        if (!Files.isDirectory(dir)) {
            return null;
        }
        Path copy = scratch.resolve(dataDir.getFileName() + "-" + topic + "-" + partition);
        copyTree(dir, copy);
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        TreeMap<Long, String> out = new TreeMap<>();
        try (PartitionLog log = PartitionLog.open(copy, LogConfig.defaults(),
                new LogEnvironment(Time.SYSTEM, scheduler, (d, e) -> { }))) {
            long offset = log.logStartOffset();
            long end = Math.min(upTo, log.logEndOffset());
            while (offset < end) {
                ReadResult r = log.read(offset, 1 << 20, end, true);
                if (!(r instanceof ReadResult.Slice slice) || slice.records().isEmpty()) {
                    throw new IOException("reading " + dir + " at " + offset + ": " + r);
                }
                for (RecordBatch batch : RecordBatch.readAll(slice.records().read())) {
                    for (Record record : batch.records()) {
                        if (record.offset() < end) {
                            out.put(record.offset(), new String(record.valueBytes(), StandardCharsets.UTF_8));
                        }
                    }
                    offset = Math.max(offset, batch.nextOffset());
                }
            }
        } finally {
            scheduler.shutdownNow();
            deleteTree(copy);
        }
        return out;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path target = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(f, target);
                }
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
    }
}
