package io.raftmq.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/**
 * The records bytes of a fetch answer are handed to the batch reader as a buffer that CRC32C reads in
 * place (its backing array) whenever protobuf holds them in one array, with the same bytes.
 */
class FetcherReadableViewTest {
    private static final byte[] BYTES = {1, 2, 3, 4, 5, 6, 7, 8, 9};

    @Test
    void aParsedByteStringIsViewedThroughItsOwnArray() {
        ByteString parsed = ByteString.copyFrom(new byte[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0}).substring(1, 10);
        ByteBuffer view = Fetcher.readableView(parsed);
        assertTrue(view.hasArray() && !view.isReadOnly());
        assertEquals(0, view.position());
        assertEquals(ByteBuffer.wrap(BYTES), view);
    }

    @Test
    void aByteStringInSeveralPiecesOrAReadOnlyHeapBufferFallsBackToTheReadOnlyView() {
        ByteString rope = ByteString.copyFrom(BYTES, 0, 4).concat(ByteString.copyFrom(BYTES, 4, 5));
        assertEquals(ByteBuffer.wrap(BYTES), Fetcher.readableView(rope));
        ByteString readOnly = UnsafeByteOperations.unsafeWrap(ByteBuffer.wrap(BYTES).asReadOnlyBuffer());
        ByteBuffer view = Fetcher.readableView(readOnly);
        assertTrue(view.isReadOnly());
        assertEquals(ByteBuffer.wrap(BYTES), view);
    }

    @Test
    void aDirectBufferIsKept() {
        ByteBuffer direct = ByteBuffer.allocateDirect(BYTES.length).put(BYTES).flip();
        ByteBuffer view = Fetcher.readableView(UnsafeByteOperations.unsafeWrap(direct.asReadOnlyBuffer()));
        assertTrue(view.isDirect());
        assertFalse(view.hasArray());
        assertEquals(ByteBuffer.wrap(BYTES), view);
    }

    @Test
    void anEmptyByteStringIsAnEmptyView() {
        assertEquals(0, Fetcher.readableView(ByteString.EMPTY).remaining());
    }
}
