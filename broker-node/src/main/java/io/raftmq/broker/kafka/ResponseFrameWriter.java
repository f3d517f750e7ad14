package io.raftmq.broker.kafka;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ReferenceCountUtil;
import io.raftmq.storage.LogSlice;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.MessageSizeAccumulator;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.protocol.Writable;
import org.apache.kafka.common.record.internal.BaseRecords;
import org.apache.kafka.common.record.internal.MemoryRecords;

/**
 * Encodes one answer as a Kafka frame (4-byte size, response header, body) into pieces for a
 * Netty channel: pooled {@link ByteBuf}s for the fields, and a {@link LogSliceRegion} for each
 * {@link LogSliceRecords} field, so that fetched batches go from the segment file to the socket
 * without passing through the heap. Over TLS ({@code copySlices}) a slice is read into a buffer
 * instead, since the bytes must be encrypted.
 *
 * <p>One instance per answer, used by one thread. The pieces are built completely before any is
 * written, so that an answer that fails to encode leaves nothing half-sent.
 */
final class ResponseFrameWriter implements Writable {
    private final ByteBufAllocator alloc;
    private final boolean copySlices;
    private final List<Object> pieces = new ArrayList<>(2);
    private ByteBuf current;
    /** Bytes of the frame outside any records field not written yet: sizes the next buffer. */
    private int plainBytesLeft;
    private long written;

    /** @param plainBytes bytes expected outside records fields: the first buffer's capacity */
    ResponseFrameWriter(ByteBufAllocator alloc, boolean copySlices, int plainBytes) {
        this.alloc = alloc;
        this.copySlices = copySlices;
        this.plainBytesLeft = plainBytes;
    }

    /** An encoded answer: the pieces to write in order, and their total size in bytes. */
    record Frame(List<Object> pieces, long sizeInBytes) {
        void release() {
            for (Object piece : pieces) {
                ReferenceCountUtil.safeRelease(piece);
            }
        }
    }

    /**
     * Encodes the answer to the request {@code correlationId} of {@code apiKey} at {@code version}.
     *
     * @throws RuntimeException when {@code body} cannot be written at {@code version} (a field
     *     the version lacks is set), or a slice cannot be read over TLS; nothing is left allocated
     * @throws IllegalStateException when the body carries records other than {@link MemoryRecords}
     *     or {@link LogSliceRecords}
     */
    static Frame encode(ByteBufAllocator alloc, boolean copySlices, int correlationId, ApiKeys apiKey, short version,
            ApiMessage body) {
        if (body.apiKey() != apiKey.id) {
            throw new IllegalStateException("the answer to a " + apiKey + " request is a "
                    + body.getClass().getSimpleName());
        }
        short headerVersion = apiKey.responseHeaderVersion(version);
        ResponseHeaderData header = new ResponseHeaderData().setCorrelationId(correlationId);
        ObjectSerializationCache cache = new ObjectSerializationCache();
        int headerSize = header.size(cache, headerVersion);
        MessageSizeAccumulator bodySize = new MessageSizeAccumulator();
        body.addSize(bodySize, cache, version);
        int size = headerSize + bodySize.totalSize();
        ResponseFrameWriter writer = new ResponseFrameWriter(alloc, copySlices,
                4 + headerSize + bodySize.sizeExcludingZeroCopy());
        try {
            writer.writeInt(size);
            header.write(writer, cache, headerVersion);
            body.write(writer, cache, version);
            Frame frame = writer.finish();
            if (frame.sizeInBytes() != 4L + size) {
                frame.release();
                throw new IllegalStateException(apiKey + " v" + version + " answer encoded to " + frame.sizeInBytes()
                        + " bytes but its size is " + (4L + size));
            }
            return frame;
        } catch (RuntimeException e) {
            writer.finish().release();
            throw e;
        }
    }

    /** Ends the writing: the pieces written so far (the caller owns them). */
    Frame finish() {
        endBuffer();
        Frame frame = new Frame(List.copyOf(pieces), written);
        pieces.clear();
        return frame;
    }

    private ByteBuf buffer() {
        if (current == null) {
            current = alloc.ioBuffer(Math.max(plainBytesLeft, 16));
        }
        return current;
    }

    private void endBuffer() {
        if (current != null) {
            written += current.readableBytes();
            pieces.add(current);
            current = null;
        }
    }

    /** Called after each field write outside records: keeps the sizing of the next buffer. */
    private void plain(int bytes) {
        plainBytesLeft -= bytes;
    }

    @Override
    public void writeByte(byte val) {
        buffer().writeByte(val);
        plain(1);
    }

    @Override
    public void writeShort(short val) {
        buffer().writeShort(val);
        plain(2);
    }

    @Override
    public void writeInt(int val) {
        buffer().writeInt(val);
        plain(4);
    }

    @Override
    public void writeLong(long val) {
        buffer().writeLong(val);
        plain(8);
    }

    @Override
    public void writeDouble(double val) {
        buffer().writeDouble(val);
        plain(8);
    }

    @Override
    public void writeByteArray(byte[] arr) {
        buffer().writeBytes(arr);
        plain(arr.length);
    }

    @Override
    public void writeByteBuffer(ByteBuffer buf) {
        int bytes = buf.remaining();
        buffer().writeBytes(buf.duplicate());
        plain(bytes);
    }

    // Kafka's varint encodings (ByteUtils), written straight into the buffer.
    @Override
    public void writeUnsignedVarint(int i) {
        ByteBuf b = buffer();
        int start = b.writerIndex();
        int value = i;
        while ((value & 0xffffff80) != 0) {
            b.writeByte((value & 0x7f) | 0x80);
            value >>>= 7;
        }
        b.writeByte(value);
        plain(b.writerIndex() - start);
    }

    @Override
    public void writeVarint(int i) {
        writeUnsignedVarint((i << 1) ^ (i >> 31));
    }

    @Override
    public void writeVarlong(long i) {
        ByteBuf b = buffer();
        int start = b.writerIndex();
        long value = (i << 1) ^ (i >> 63);
        while ((value & 0xffffffffffffff80L) != 0L) {
            b.writeByte(((int) value & 0x7f) | 0x80);
            value >>>= 7;
        }
        b.writeByte((int) value);
        plain(b.writerIndex() - start);
    }

    @Override
    public void writeRecords(BaseRecords records) {
        if (records instanceof MemoryRecords memory) {
            ByteBuffer bytes = memory.buffer();
            buffer().writeBytes(bytes.duplicate());
        } else if (records instanceof LogSliceRecords fileRecords) {
            LogSlice slice = fileRecords.slice();
            if (slice.sizeInBytes() == 0) {
                return;
            }
            if (copySlices) {
                copy(slice);
            } else {
                endBuffer();
                pieces.add(new LogSliceRegion(slice.channel(), slice.position(), slice.sizeInBytes()));
                written += slice.sizeInBytes();
            }
        } else {
            throw new IllegalStateException("cannot send records of type " + records.getClass().getName()
                    + " (" + records.sizeInBytes() + " bytes): only MemoryRecords and LogSliceRecords");
        }
    }

    /** TLS: the slice's bytes read into the current buffer (they must pass through the engine). */
    private void copy(LogSlice slice) {
        ByteBuf b = buffer();
        b.ensureWritable(slice.sizeInBytes());
        long at = slice.position();
        int left = slice.sizeInBytes();
        try {
            while (left > 0) {
                int n = b.writeBytes(slice.channel(), at, left);
                if (n < 0) {
                    throw new IOException("segment file ended " + left + " bytes before the end of the slice "
                            + slice.position() + "+" + slice.sizeInBytes());
                }
                at += n;
                left -= n;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
