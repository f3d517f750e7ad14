package io.raftmq.protocol;

/**
 * The values of a produce request's {@code acks} (Kafka's numbers): how many copies of the records
 * the producer waits for before the answer.
 */
public final class Acks {
    /** No answer awaited. */
    public static final short NONE = 0;
    /** Answered once the leader has written the records. */
    public static final short LEADER = 1;
    /** Answered once every in-sync replica has the records (the high watermark covers them). */
    public static final short ALL = -1;

    private Acks() {
    }
}
