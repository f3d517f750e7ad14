package io.raftmq.storage;

import io.raftmq.protocol.record.CorruptRecordException;
import io.raftmq.protocol.record.Record;
import io.raftmq.protocol.record.RecordBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * One segment of a partition log: the file {@code <baseOffset, 20 digits>.log} holding whole
 * RecordBatch v2 batches back to back, with its sparse {@link OffsetIndex} ({@code .index}) and
 * {@link TimeIndex} ({@code .timeindex}).
 *
 * <p>Thread-safety: one writer (the log's write lock) appends, truncates, recovers and closes;
 * readers use positional reads below {@link #size()}, which the writer publishes (volatile) only
 * after the bytes are written. The channel is never repositioned.
 */
final class LogSegment {
    static final String LOG_SUFFIX = ".log";
    static final String INDEX_SUFFIX = ".index";
    static final String TIME_INDEX_SUFFIX = ".timeindex";
    static final String DELETED_SUFFIX = ".deleted";
    /** Bytes of a batch header needed to know its offsets, size and max timestamp. */
    private static final int HEADER_BYTES = RecordBatch.PRODUCER_ID_OFFSET;

    /** A validated batch about to be appended: where it sits in the append buffer, and its facts. */
    record BatchMeta(int positionInBuffer, int sizeInBytes, long baseOffset, long lastOffset, long maxTimestamp,
            int partitionLeaderEpoch) {}

    /** What recovery found. */
    record Recovery(int validBytes, long truncatedBytes, long nextOffset, String reason) {}

    /** Told about each valid batch recovery reads, e.g. to rebuild the leader epoch cache. */
    interface BatchVisitor {
        void visit(int partitionLeaderEpoch, long baseOffset) throws IOException;
    }

    final long baseOffset;
    private final Path dir;
    private final FileChannel channel;
    private final OffsetIndex offsetIndex;
    private final TimeIndex timeIndex;

    private volatile int size;
    private volatile long nextOffset;
    private volatile long maxTimestamp = -1;
    /** Set (under the log's write lock) once retention or truncation has taken the segment out of service. */
    private volatile boolean deleted;
    // Writer only.
    private int bytesSinceIndexEntry;
    private long rollReferenceMs;

    private LogSegment(Path dir, long baseOffset, FileChannel channel, long rollReferenceMs) {
        this.dir = dir;
        this.baseOffset = baseOffset;
        this.channel = channel;
        this.offsetIndex = new OffsetIndex(baseOffset);
        this.timeIndex = new TimeIndex(baseOffset);
        this.nextOffset = baseOffset;
        this.rollReferenceMs = rollReferenceMs;
    }

    static String fileName(long baseOffset, String suffix) {
        return String.format("%020d", baseOffset) + suffix;
    }

    /** A new, empty segment. */
    static LogSegment create(Path dir, long baseOffset, LogEnvironment.FileOpener files, long nowMs)
            throws IOException {
        Path file = dir.resolve(fileName(baseOffset, LOG_SUFFIX));
        FileChannel channel = files.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        try {
            // The file's name is durable only once its directory is: an fsync of the file alone may
            // leave records that were acknowledged as durable in a file a power loss unlinks.
            Checkpoints.syncDirectory(dir, files);
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        return new LogSegment(dir, baseOffset, channel, nowMs);
    }

    /** An existing segment, not yet loaded: call {@link #load} or {@link #recover} next. */
    static LogSegment open(Path dir, long baseOffset, LogEnvironment.FileOpener files) throws IOException {
        Path file = dir.resolve(fileName(baseOffset, LOG_SUFFIX));
        FileChannel channel = files.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        long mtime = Files.getLastModifiedTime(file).toMillis();
        return new LogSegment(dir, baseOffset, channel, mtime);
    }

    int size() {
        return size;
    }

    /** The offset after the last batch; the base offset when empty. */
    long nextOffset() {
        return nextOffset;
    }

    long maxTimestamp() {
        return maxTimestamp;
    }

    long rollReferenceMs() {
        return rollReferenceMs;
    }

    FileChannel channel() {
        return channel;
    }

    // ---- loading and recovery ----

    /**
     * Loads a segment that was closed cleanly: indexes from their files (rebuilt by a header scan if
     * they are missing or do not fit the segment), the end from the batch headers after the last
     * index entry.
     */
    void load(int indexIntervalBytes) throws IOException {
        int fileSize = (int) Math.min(Integer.MAX_VALUE, channel.size());
        OffsetIndex loaded = OffsetIndex.load(dir.resolve(fileName(baseOffset, INDEX_SUFFIX)), baseOffset,
                Long.MAX_VALUE, Math.max(1, fileSize));
        int position = loaded == null ? 0 : loaded.floorPosition(Long.MAX_VALUE);
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
        BatchHeader first = readHeader(position, fileSize, header);
        if (first == null && position > 0) {
            loaded = null; // the index points past the data: rebuild it
            position = 0;
        }
        long end = baseOffset;
        BatchHeader h;
        while ((h = readHeader(position, fileSize, header)) != null) {
            end = h.lastOffset + 1;
            position += h.size;
        }
        if (position < fileSize) {
            // A cleanly closed segment ends with its last whole batch; drop anything after it.
            channel.truncate(position);
        }
        size = position;
        nextOffset = end;
        TimeIndex loadedTime = TimeIndex.load(dir.resolve(fileName(baseOffset, TIME_INDEX_SUFFIX)), baseOffset, end);
        if (loaded == null || loadedTime == null || (size > 0 && loadedTime.entryCount() == 0)) {
            rebuildIndexes(indexIntervalBytes, position);
        } else {
            offsetIndex.copyFrom(loaded);
            maxTimestamp = loadedTime.lastTimestamp();
            loadedTime.truncateToOffset(end); // the final entry only records the max timestamp on disk
            timeIndex.copyFrom(loadedTime);
        }
    }

    /** Rebuilds both indexes from the batch headers (no CRC check: the segment is trusted). */
    private void rebuildIndexes(int indexIntervalBytes, int fileSize) throws IOException {
        offsetIndex.clear();
        timeIndex.clear();
        bytesSinceIndexEntry = 0;
        long max = -1;
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
        int position = 0;
        while (position < size) {
            BatchHeader h = readHeader(position, fileSize, header);
            if (h == null) {
                break;
            }
            if (bytesSinceIndexEntry >= indexIntervalBytes && position > 0) {
                offsetIndex.append(h.baseOffset, position);
                timeIndex.maybeAppend(max, h.baseOffset);
                bytesSinceIndexEntry = 0;
            }
            bytesSinceIndexEntry += h.size;
            max = Math.max(max, h.maxTimestamp);
            position += h.size;
        }
        maxTimestamp = max;
    }

    /**
     * Reads every batch from the start, checks it (size, magic, CRC, record count, offsets that
     * continue from {@code expectedBaseOffset}), rebuilds the indexes, and truncates the file after
     * the last valid batch.
     */
    Recovery recover(int indexIntervalBytes, long expectedBaseOffset, BatchVisitor visitor) throws IOException {
        long fileSize = channel.size();
        offsetIndex.clear();
        timeIndex.clear();
        bytesSinceIndexEntry = 0;
        long max = -1;
        long next = expectedBaseOffset;
        int position = 0;
        String reason = null;
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        while (position < fileSize) {
            long remaining = fileSize - position;
            if (remaining < RecordBatch.LOG_OVERHEAD) {
                reason = remaining + " stray bytes at the end";
                break;
            }
            ByteBuffer lengthBuffer = ByteBuffer.allocate(RecordBatch.LOG_OVERHEAD);
            readFully(lengthBuffer, position);
            int batchSize = RecordBatch.LOG_OVERHEAD + lengthBuffer.getInt(RecordBatch.LENGTH_OFFSET);
            if (batchSize < RecordBatch.RECORD_BATCH_OVERHEAD || batchSize > remaining) {
                reason = "a batch of " + batchSize + " bytes where " + remaining + " bytes remain";
                break;
            }
            if (buffer.capacity() < batchSize) {
                buffer = ByteBuffer.allocate(batchSize);
            }
            buffer.clear().limit(batchSize);
            readFully(buffer, position);
            buffer.flip();
            RecordBatch batch = RecordBatch.readFrom(buffer);
            try {
                batch.ensureValid();
            } catch (CorruptRecordException e) {
                reason = e.getMessage();
                break;
            }
            if (batch.baseOffset() != next) {
                reason = "batch at offset " + batch.baseOffset() + " where offset " + next + " was expected";
                break;
            }
            if (bytesSinceIndexEntry >= indexIntervalBytes && position > 0) {
                offsetIndex.append(batch.baseOffset(), position);
                timeIndex.maybeAppend(max, batch.baseOffset());
                bytesSinceIndexEntry = 0;
            }
            bytesSinceIndexEntry += batchSize;
            max = Math.max(max, batch.maxTimestamp());
            visitor.visit(batch.partitionLeaderEpoch(), batch.baseOffset());
            next = batch.nextOffset();
            position += batchSize;
        }
        long truncated = fileSize - position;
        if (truncated > 0) {
            channel.truncate(position);
            channel.force(true);
        }
        size = position;
        nextOffset = next;
        maxTimestamp = max;
        return new Recovery(position, truncated, next, reason);
    }

    // ---- writing ----

    /** Appends validated, stamped batches (all of {@code batches}) at the end of the file. */
    void append(ByteBuffer batches, List<BatchMeta> metas, int indexIntervalBytes, long nowMs) throws IOException {
        int position = size;
        if (position == 0) {
            rollReferenceMs = nowMs;
        }
        long max = maxTimestamp;
        for (BatchMeta meta : metas) {
            if (bytesSinceIndexEntry >= indexIntervalBytes && position + meta.positionInBuffer() > 0) {
                offsetIndex.append(meta.baseOffset(), position + meta.positionInBuffer());
                timeIndex.maybeAppend(max, meta.baseOffset());
                bytesSinceIndexEntry = 0;
            }
            bytesSinceIndexEntry += meta.sizeInBytes();
            max = Math.max(max, meta.maxTimestamp());
        }
        ByteBuffer bytes = batches.duplicate();
        long at = position;
        while (bytes.hasRemaining()) {
            at += channel.write(bytes, at);
        }
        nextOffset = metas.get(metas.size() - 1).lastOffset() + 1;
        maxTimestamp = max;
        size = (int) at; // published last: readers see only written bytes
    }

    /** fdatasync: the appended bytes (and the file size) are on disk. */
    void flush() throws IOException {
        channel.force(false);
    }

    /** Writes both indexes to their files (at roll and close). */
    void writeIndexes() throws IOException {
        offsetIndex.writeTo(dir.resolve(fileName(baseOffset, INDEX_SUFFIX)));
        TimeIndex snapshot = timeIndex;
        // A final entry records the segment's largest timestamp for retention after a restart.
        snapshot.maybeAppend(maxTimestamp, nextOffset);
        snapshot.writeTo(dir.resolve(fileName(baseOffset, TIME_INDEX_SUFFIX)));
        snapshot.truncateToOffset(nextOffset);
    }

    /**
     * Removes every batch at or past {@code offset} (a batch that contains it is removed whole).
     *
     * @return the bytes removed
     */
    long truncateTo(long offset) throws IOException {
        int segmentSize = size;
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
        int position = offsetIndex.floorPosition(offset);
        BatchHeader h;
        while ((h = readHeader(position, segmentSize, header)) != null && h.lastOffset < offset) {
            position += h.size;
        }
        if (h == null) {
            return 0;
        }
        long removed = segmentSize - position;
        channel.truncate(position);
        size = position;
        nextOffset = h.baseOffset;
        offsetIndex.truncateToPosition(position);
        timeIndex.truncateToOffset(h.baseOffset);
        // Recompute the largest timestamp of what is left.
        long max = -1;
        int at = 0;
        while ((h = readHeader(at, position, header)) != null) {
            max = Math.max(max, h.maxTimestamp);
            at += h.size;
        }
        maxTimestamp = max;
        bytesSinceIndexEntry = 0;
        return removed;
    }

    // ---- reading ----

    /**
     * Whole batches from the one containing {@code startOffset}, up to {@code maxBytes} (at least
     * one batch when {@code minOneBatch}), never including a batch that reaches {@code
     * maxOffsetExclusive}. Empty when there is nothing such.
     */
    LogSlice read(long startOffset, int maxBytes, long maxOffsetExclusive, boolean minOneBatch) throws IOException {
        int segmentSize = size;
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
        int position = offsetIndex.floorPosition(startOffset);
        BatchHeader h;
        while ((h = readHeader(position, segmentSize, header)) != null && h.lastOffset < startOffset) {
            position += h.size;
        }
        if (h == null) {
            return LogSlice.empty(startOffset);
        }
        int start = position;
        long first = h.baseOffset;
        long next = first;
        int bytes = 0;
        while (h != null && h.lastOffset < maxOffsetExclusive) {
            if (bytes + h.size > maxBytes && !(bytes == 0 && minOneBatch)) {
                break;
            }
            bytes += h.size;
            next = h.lastOffset + 1;
            position += h.size;
            h = readHeader(position, segmentSize, header);
        }
        return bytes == 0 ? LogSlice.empty(startOffset) : new LogSlice(channel, start, bytes, first, next);
    }

    /**
     * The first record at or after {@code timestamp} among offsets in [{@code minOffset}, {@code
     * maxOffsetExclusive}), or null (the log may start inside this segment: records below its log
     * start are not in the log any more).
     */
    TimestampOffset findOffsetForTimestamp(long timestamp, long minOffset, long maxOffsetExclusive)
            throws IOException {
        if (maxTimestamp < timestamp) {
            return null;
        }
        int segmentSize = size;
        long startOffset = Math.max(timeIndex.startOffsetFor(timestamp), minOffset);
        int position = offsetIndex.floorPosition(startOffset);
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
        BatchHeader h;
        while ((h = readHeader(position, segmentSize, header)) != null && h.baseOffset < maxOffsetExclusive) {
            if (h.maxTimestamp >= timestamp && h.lastOffset >= minOffset) {
                for (Record record : readBatch(position, h).records()) {
                    if (record.offset() >= maxOffsetExclusive) {
                        return null;
                    }
                    if (record.offset() >= minOffset && record.timestamp() >= timestamp) {
                        return new TimestampOffset(record.offset(), record.timestamp());
                    }
                }
            }
            position += h.size;
        }
        return null;
    }

    /**
     * The first record with the largest timestamp among offsets in [{@code minOffset}, {@code
     * maxOffsetExclusive}), or null when there is none (ListOffsets for the max timestamp). Batch
     * headers carry each batch's largest timestamp; only a batch that straddles {@code minOffset},
     * and the winning batch, are decoded.
     */
    TimestampOffset findMaxTimestamp(long minOffset, long maxOffsetExclusive) throws IOException {
        int segmentSize = size;
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
        int position = offsetIndex.floorPosition(Math.max(minOffset, baseOffset));
        int bestPosition = -1;
        BatchHeader best = null;
        long bestTimestamp = Long.MIN_VALUE;
        BatchHeader h;
        while ((h = readHeader(position, segmentSize, header)) != null && h.baseOffset < maxOffsetExclusive) {
            if (h.lastOffset >= minOffset) {
                long batchMax = h.maxTimestamp;
                if (h.baseOffset < minOffset) { // straddles the log start: only its records from there count
                    batchMax = Long.MIN_VALUE;
                    for (Record record : readBatch(position, h).records()) {
                        if (record.offset() >= minOffset && record.offset() < maxOffsetExclusive) {
                            batchMax = Math.max(batchMax, record.timestamp());
                        }
                    }
                }
                if (best == null || batchMax > bestTimestamp) {
                    best = h;
                    bestPosition = position;
                    bestTimestamp = batchMax;
                }
            }
            position += h.size;
        }
        if (best == null) {
            return null;
        }
        for (Record record : readBatch(bestPosition, best).records()) {
            if (record.offset() >= maxOffsetExclusive) {
                break;
            }
            if (record.offset() >= minOffset && record.timestamp() == bestTimestamp) {
                return new TimestampOffset(record.offset(), record.timestamp());
            }
        }
        // A header that overstates its records' timestamps: the batch's first record in range.
        return new TimestampOffset(Math.max(best.baseOffset, minOffset), bestTimestamp);
    }

    private RecordBatch readBatch(int position, BatchHeader h) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(h.size);
        readFully(bytes, position);
        return RecordBatch.readFrom(bytes.flip());
    }

    /** Told about each batch header a scan reads: {@link ProducerStateManager#HEADER_BYTES} bytes. */
    interface HeaderVisitor {
        void visit(ByteBuffer header);
    }

    /**
     * Reads the headers (not the records) of the batches from the one starting at or after {@code
     * fromOffset} to the end, in order.
     *
     * @return how many batches were visited
     */
    int scanHeaders(long fromOffset, ByteBuffer header, HeaderVisitor visitor) throws IOException {
        int segmentSize = size;
        int position = offsetIndex.floorPosition(fromOffset);
        int visited = 0;
        while (segmentSize - position >= ProducerStateManager.HEADER_BYTES) {
            header.clear().limit(ProducerStateManager.HEADER_BYTES);
            readFully(header, position);
            int batchSize = RecordBatch.LOG_OVERHEAD + header.getInt(RecordBatch.LENGTH_OFFSET);
            if (batchSize < RecordBatch.RECORD_BATCH_OVERHEAD || batchSize > segmentSize - position) {
                break;
            }
            if (header.getLong(RecordBatch.BASE_OFFSET_OFFSET) >= fromOffset) {
                visitor.visit(header);
                visited++;
            }
            position += batchSize;
        }
        return visited;
    }

    private record BatchHeader(long baseOffset, long lastOffset, int size, long maxTimestamp) {}

    /** The header of the batch at {@code position}, or null when no whole batch is there. */
    private BatchHeader readHeader(int position, int limit, ByteBuffer header) throws IOException {
        if (limit - position < HEADER_BYTES) {
            return null;
        }
        header.clear();
        readFully(header, position);
        int batchSize = RecordBatch.LOG_OVERHEAD + header.getInt(RecordBatch.LENGTH_OFFSET);
        if (batchSize < RecordBatch.RECORD_BATCH_OVERHEAD || batchSize > limit - position) {
            return null;
        }
        long base = header.getLong(RecordBatch.BASE_OFFSET_OFFSET);
        return new BatchHeader(base, base + header.getInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET), batchSize,
                header.getLong(RecordBatch.MAX_TIMESTAMP_OFFSET));
    }

    private void readFully(ByteBuffer buffer, long position) throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, at);
            if (n < 0) {
                throw new IOException("segment " + fileName(baseOffset, LOG_SUFFIX) + " ended at " + at);
            }
            at += n;
        }
    }

    // ---- life cycle ----

    void close() throws IOException {
        channel.close();
    }

    /**
     * Renames the segment's files to {@code *.deleted} (reads in progress keep the open channel)
     * and fsyncs the directory, so that a power loss cannot bring back a segment the log no longer
     * has (a truncated, divergent tail); {@link #deleteFiles} removes them later.
     */
    void markDeleted(LogEnvironment.FileOpener files) throws IOException {
        deleted = true;
        for (String suffix : List.of(LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX)) {
            Path file = dir.resolve(fileName(baseOffset, suffix));
            if (Files.exists(file)) {
                Files.move(file, file.resolveSibling(file.getFileName() + DELETED_SUFFIX));
            }
        }
        Checkpoints.syncDirectory(dir, files);
    }

    /** Whether the segment was taken out of service; its channel may close at any time after. */
    boolean isDeleted() {
        return deleted;
    }

    /** Closes the channel and removes the files (renamed or not). */
    void deleteFiles() throws IOException {
        channel.close();
        for (String suffix : List.of(LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX)) {
            Path file = dir.resolve(fileName(baseOffset, suffix));
            Files.deleteIfExists(file);
            Files.deleteIfExists(file.resolveSibling(file.getFileName() + DELETED_SUFFIX));
        }
    }

    @Override
    public String toString() {
        return "LogSegment(" + baseOffset + ".." + nextOffset + ", " + size + " bytes)";
    }
}
