package io.raftmq.storage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens a log directory. After a clean shutdown (marker present) it loads the segments and their
 * indexes as they are. Otherwise it recovers: segments wholly below the recovery point are loaded
 * as they are, and every segment from the one holding the recovery point on is read batch by
 * batch, re-validated (size, magic, CRC, contiguous offsets), its indexes rebuilt; at the first bad
 * batch the file is truncated and every later segment deleted, and a segment that does not start
 * where the one before it ends (that one was cut at a batch boundary) is deleted with every later
 * one, so the log is the longest valid prefix of what was on disk. The leader epoch cache is
 * trimmed to the recovered end, and the producer state is rebuilt (from its newest snapshot at or
 * below the end, plus batch headers).
 *
 * <p>Runs on the caller's thread, before the log is shared.
 */
final class LogLoader {
    private static final Logger LOG = LoggerFactory.getLogger(LogLoader.class);

    private LogLoader() {}

    static PartitionLog load(Path dir, LogConfig config, LogEnvironment env) throws IOException {
        Files.createDirectories(dir);
        String name = dir.getFileName().toString();
        List<Long> bases = new ArrayList<>();
        for (Path file : PartitionLog.list(dir)) {
            String fileName = file.getFileName().toString();
            if (PartitionLog.isLeftover(file)) {
                Files.deleteIfExists(file);
            } else if (fileName.endsWith(LogSegment.LOG_SUFFIX)) {
                bases.add(Long.parseLong(fileName.substring(0, fileName.length() - LogSegment.LOG_SUFFIX.length())));
            }
        }
        bases.sort(null);

        Path marker = dir.resolve(PartitionLog.CLEAN_SHUTDOWN_FILE);
        boolean clean = Files.exists(marker);
        long[] checkpoint = readCheckpoint(dir);
        long recoveryPoint = checkpoint[0];
        long logStart = checkpoint[1];
        LeaderEpochCache epochs = LeaderEpochCache.load(dir);
        long nowMs = env.time().milliseconds();
        int indexInterval = config.indexIntervalBytes();

        List<LogSegment> segments = new ArrayList<>();
        String recovered = "";
        try {
            if (bases.isEmpty()) {
                segments.add(LogSegment.create(dir, logStart, env.files(), nowMs));
            }
            for (int i = 0; i < bases.size(); i++) {
                long base = bases.get(i);
                LogSegment segment = LogSegment.open(dir, base, env.files());
                boolean belowRecoveryPoint = i + 1 < bases.size() && bases.get(i + 1) <= recoveryPoint;
                long expected = segments.isEmpty() ? base : segments.get(segments.size() - 1).nextOffset();
                if (clean || belowRecoveryPoint) {
                    segment.load(indexInterval);
                    if (segment.nextOffset() > base && !segments.isEmpty() && base != expected) {
                        // Loaded segments must continue each other; otherwise recover from here.
                        segment.close();
                        segment = LogSegment.open(dir, base, env.files());
                        clean = false;
                    } else {
                        segments.add(segment);
                        continue;
                    }
                }
                if (base != expected) {
                    // It does not continue the log (the segment before it was cut at a batch
                    // boundary): a file named by an offset the log cannot hold must not stay.
                    segment.deleteFiles();
                    recovered = String.format("; deleted segment %d: it does not continue the log, which ends at"
                            + " offset %d", base, expected) + deleteLater(dir, bases, i, env);
                    break;
                }
                LogSegment.Recovery recovery = segment.recover(indexInterval, expected, epochs::assignIfNewer);
                segments.add(segment);
                if (recovery.reason() != null) {
                    recovered = String.format("; recovery truncated segment %d at byte %d (offset %d): %s", base,
                            recovery.validBytes(), recovery.nextOffset(), recovery.reason())
                            + deleteLater(dir, bases, i, env);
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            for (LogSegment segment : segments) {
                try {
                    segment.close();
                } catch (IOException ignored) {
                    // Already failing.
                }
            }
            throw e instanceof IOException io ? io : new IOException("cannot load log " + dir, e);
        }
        LogSegment last = segments.get(segments.size() - 1);
        long logEnd = last.nextOffset();
        logStart = Math.min(Math.max(logStart, segments.get(0).baseOffset), logEnd);
        recoveryPoint = clean ? logEnd : Math.min(recoveryPoint, logEnd);
        epochs.truncateFromEnd(logEnd);
        epochs.truncateFromStart(logStart);
        ProducerStateManager producers = new ProducerStateManager(dir, logEnd);
        producers.rebuild(segments.toArray(new LogSegment[0]), logEnd);
        Files.deleteIfExists(marker);
        Checkpoints.syncDirectory(dir);

        LOG.info("[log {}] loaded {} ({} segments, offsets {} to {}){}", name,
                clean ? "after a clean shutdown" : "with recovery from offset " + checkpoint[0], segments.size(),
                logStart, logEnd, recovered);
        return PartitionLog.create(dir, config, env, epochs, producers, segments.toArray(new LogSegment[0]),
                logStart, recoveryPoint, checkpoint[0]);
    }

    /** Deletes every segment after {@code bases.get(i)}; says which, for the load line. */
    private static String deleteLater(Path dir, List<Long> bases, int i, LogEnvironment env) throws IOException {
        StringBuilder deleted = new StringBuilder();
        for (int j = i + 1; j < bases.size(); j++) {
            LogSegment.open(dir, bases.get(j), env.files()).deleteFiles();
            deleted.append("; deleted the later segment ").append(bases.get(j));
        }
        return deleted.toString();
    }

    /** {recoveryPoint, logStartOffset}, both 0 when there is no checkpoint. */
    private static long[] readCheckpoint(Path dir) throws IOException {
        Path file = dir.resolve(PartitionLog.CHECKPOINT_FILE);
        if (!Files.isRegularFile(file)) {
            return new long[] {0, 0};
        }
        String[] parts = Files.readString(file, StandardCharsets.US_ASCII).trim().split("\\s+");
        if (parts.length != 2) {
            throw new IOException("log checkpoint " + file + " is not 'recoveryPoint logStartOffset'");
        }
        return new long[] {Long.parseLong(parts[0]), Long.parseLong(parts[1])};
    }
}
