package io.raftmq.protocol.record;

/** Bytes that should be a record batch are not a well-formed one (bad CRC, sizes, magic, varints). */
public final class CorruptRecordException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CorruptRecordException(String message) {
        super(message);
    }

    public CorruptRecordException(String message, Throwable cause) {
        super(message, cause);
    }
}
