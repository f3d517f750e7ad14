package io.raftmq.protocol.record;

import com.github.luben.zstd.RecyclingBufferPool;
import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import com.github.luben.zstd.ZstdOutputStreamNoFinalizer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import net.jpountz.lz4.LZ4FrameInputStream;
import net.jpountz.lz4.LZ4FrameOutputStream;
import org.xerial.snappy.SnappyInputStream;
import org.xerial.snappy.SnappyOutputStream;

/**
 * How the records of a batch are compressed (attribute bits 0-2), with Kafka's ids and framing:
 * gzip (JDK), snappy (xerial framing, as Kafka), LZ4 frames with 64 KiB independent blocks (as
 * Kafka's producer writes them for magic 2), zstd frames.
 */
public enum CompressionType {
    NONE(0, "none"),
    GZIP(1, "gzip"),
    SNAPPY(2, "snappy"),
    LZ4(3, "lz4"),
    ZSTD(4, "zstd");

    public final int id;
    public final String configName;

    CompressionType(int id, String configName) {
        this.id = id;
        this.configName = configName;
    }

    /** @throws CorruptRecordException for an id that names no codec */
    public static CompressionType forId(int id) {
        for (CompressionType type : values()) {
            if (type.id == id) {
                return type;
            }
        }
        throw new CorruptRecordException("unknown compression type id " + id);
    }

    /** By config name (none, gzip, snappy, lz4, zstd). */
    public static CompressionType forName(String name) {
        for (CompressionType type : values()) {
            if (type.configName.equalsIgnoreCase(name)) {
                return type;
            }
        }
        throw new IllegalArgumentException("unknown compression type '" + name + "'; known: none, gzip, snappy,"
                + " lz4, zstd");
    }

    /** A stream that compresses into {@code out}; closing it finishes the compressed data. */
    OutputStream wrapForOutput(OutputStream out) {
        try {
            return switch (this) {
                case NONE -> out;
                case GZIP -> new GZIPOutputStream(out, 8 * 1024);
                case SNAPPY -> new SnappyOutputStream(out);
                case LZ4 -> new LZ4FrameOutputStream(out, LZ4FrameOutputStream.BLOCKSIZE.SIZE_64KB,
                        LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE);
                case ZSTD -> new ZstdOutputStreamNoFinalizer(out, RecyclingBufferPool.INSTANCE);
            };
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A stream that decompresses {@code compressed} (from its position to its limit). */
    InputStream wrapForInput(ByteBuffer compressed) {
        InputStream in = new ByteBufferInputStream(compressed);
        try {
            return switch (this) {
                case NONE -> in;
                case GZIP -> new GZIPInputStream(in, 8 * 1024);
                case SNAPPY -> new SnappyInputStream(in);
                case LZ4 -> new LZ4FrameInputStream(in);
                case ZSTD -> new ZstdInputStreamNoFinalizer(in, RecyclingBufferPool.INSTANCE);
            };
        } catch (IOException e) {
            throw new CorruptRecordException("cannot read " + configName + " data: " + e.getMessage(), e);
        }
    }

    /** Reads a {@link ByteBuffer} as an {@link InputStream}. */
    private static final class ByteBufferInputStream extends InputStream {
        private final ByteBuffer buffer;

        ByteBufferInputStream(ByteBuffer buffer) {
            this.buffer = buffer.duplicate();
        }

        @Override
        public int read() {
            return buffer.hasRemaining() ? buffer.get() & 0xff : -1;
        }

        @Override
        public int read(byte[] bytes, int off, int len) {
            if (len == 0) {
                return 0;
            }
            if (!buffer.hasRemaining()) {
                return -1;
            }
            int n = Math.min(len, buffer.remaining());
            buffer.get(bytes, off, n);
            return n;
        }

        @Override
        public int available() {
            return buffer.remaining();
        }
    }
}
