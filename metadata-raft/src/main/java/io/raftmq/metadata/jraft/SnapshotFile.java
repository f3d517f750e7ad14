package io.raftmq.metadata.jraft;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import io.raftmq.protocol.metadata.MetadataRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The metadata snapshot file: the image as the records that rebuild it.
 *
 * <pre>
 *   magic "RMQMETA1" (8 bytes)
 *   offset       int64 big-endian   metadata offset of the image
 *   recordCount  int32 big-endian
 *   records      recordCount x (varint length, MetadataRecord bytes)
 *   crc          int32 big-endian   CRC-32C of everything before it
 * </pre>
 *
 * A file that is short, has another magic, or fails its CRC is refused: a snapshot is either read
 * whole or not at all. Stateless; safe from any thread.
 */
final class SnapshotFile {
    static final String NAME = "metadata.snapshot";
    private static final byte[] MAGIC = "RMQMETA1".getBytes(StandardCharsets.US_ASCII);

    record Contents(long offset, List<MetadataRecord> records) {}

    private SnapshotFile() {}

    /** Writes and fsyncs the snapshot. */
    static void write(Path file, long offset, List<MetadataRecord> records) throws IOException {
        int size = MAGIC.length + 8 + 4;
        for (MetadataRecord record : records) {
            int n = record.getSerializedSize();
            size += CodedOutputStream.computeUInt32SizeNoTag(n) + n;
        }
        ByteBuffer buffer = ByteBuffer.allocate(size + 4);
        buffer.put(MAGIC).putLong(offset).putInt(records.size());
        CodedOutputStream out = CodedOutputStream.newInstance(buffer);
        for (MetadataRecord record : records) {
            out.writeUInt32NoTag(record.getSerializedSize());
            record.writeTo(out);
        }
        out.flush();
        CRC32C crc = new CRC32C();
        crc.update(buffer.array(), 0, size);
        buffer.position(size);
        buffer.putInt((int) crc.getValue());
        buffer.flip();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        }
    }

    /**
     * Reads a snapshot.
     *
     * @throws IOException when the file cannot be read or is not a whole, valid snapshot
     */
    static Contents read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        if (bytes.length < MAGIC.length + 8 + 4 + 4) {
            throw new IOException("metadata snapshot " + file + " is truncated (" + bytes.length + " bytes)");
        }
        if (!Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new IOException("metadata snapshot " + file + " does not start with the snapshot magic");
        }
        int bodyLength = bytes.length - 4;
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, bodyLength);
        int expected = ByteBuffer.wrap(bytes, bodyLength, 4).getInt();
        if ((int) crc.getValue() != expected) {
            throw new IOException("metadata snapshot " + file + " fails its CRC: stored " + Integer.toHexString(expected)
                    + ", computed " + Integer.toHexString((int) crc.getValue()));
        }
        ByteBuffer header = ByteBuffer.wrap(bytes, MAGIC.length, 12);
        long offset = header.getLong();
        int count = header.getInt();
        if (count < 0) {
            throw new IOException("metadata snapshot " + file + " has a negative record count " + count);
        }
        CodedInputStream in = CodedInputStream.newInstance(bytes, MAGIC.length + 12, bodyLength - MAGIC.length - 12);
        List<MetadataRecord> records = new ArrayList<>(Math.min(count, 1 << 16));
        for (int i = 0; i < count; i++) {
            int length = in.readRawVarint32();
            int limit = in.pushLimit(length);
            records.add(MetadataRecord.parseFrom(in));
            in.popLimit(limit);
        }
        if (!in.isAtEnd()) {
            throw new IOException("metadata snapshot " + file + " has bytes after its " + count + " records");
        }
        return new Contents(offset, records);
    }
}
