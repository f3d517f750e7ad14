package io.raftmq.protocol.record;

/**
 * The records of a compressed batch decompress to more bytes than the reader allows: the batch may
 * be well-formed, but reading it would take more memory than the bound.
 */
public final class RecordsTooLargeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public RecordsTooLargeException(String message) {
        super(message);
    }
}
