package io.raftmq.metadata.client;

/**
 * How long this broker may go on acting on what the controller last told it: a lease on its own
 * clock. The active controller fences a broker when it has had no heartbeat from it for the
 * session timeout, counted from when a heartbeat <em>arrived</em>; a heartbeat arrives after it
 * was sent, so a broker whose heartbeat sent at {@code sentMs} was answered is not fenced before
 * {@code sentMs + sessionTimeoutMs}. The lease ends {@code marginMs} earlier than that, so that a
 * broker cut off from the controller (or paused) has stopped leading before the controller
 * elects another leader; the margin covers a timer that fires late and clocks that run at
 * slightly different rates.
 *
 * <pre>
 *   NEVER_GRANTED -(registration or heartbeat answered)-> HELD
 *   HELD -(now reaches the last answered send + duration)-> EXPIRED
 *   EXPIRED -(a heartbeat answered whose send + duration is still ahead)-> HELD
 * </pre>
 *
 * <p>Threads: written only by the broker's lifecycle thread ({@link #renew}); read by any thread
 * ({@link #isHeld}, {@link #expiresAtMs}) through one volatile field. Times are the injected
 * monotonic clock's.
 */
public final class BrokerLease {
    private final long durationMs;
    /** Long.MIN_VALUE until the first grant. */
    private volatile long expiresAtMs = Long.MIN_VALUE;

    /**
     * @param durationMs how long after a heartbeat's send an answer to it lets the broker act
     *     (the session timeout minus the margin); positive
     */
    public BrokerLease(long durationMs) {
        if (durationMs <= 0) {
            throw new IllegalArgumentException("lease duration must be positive: " + durationMs + " ms");
        }
        this.durationMs = durationMs;
    }

    /** The lease a broker with this session and margin holds; names both values when they do not fit. */
    public static BrokerLease of(long sessionTimeoutMs, long marginMs) {
        if (marginMs < 0 || marginMs >= sessionTimeoutMs) {
            throw new IllegalArgumentException("lease margin must be at least 0 and below the session timeout ("
                    + sessionTimeoutMs + " ms): " + marginMs + " ms");
        }
        return new BrokerLease(sessionTimeoutMs - marginMs);
    }

    public long durationMs() {
        return durationMs;
    }

    /**
     * A registration or heartbeat sent at {@code sentMs} was answered by the active controller.
     * Never moves the end back (answers can arrive out of send order).
     */
    void renew(long sentMs) {
        long end = sentMs + durationMs;
        if (end > expiresAtMs) {
            expiresAtMs = end;
        }
    }

    /** Whether the broker may act as leader at {@code nowMs}. */
    public boolean isHeld(long nowMs) {
        return nowMs < expiresAtMs;
    }

    /** When the lease ends (or ended); Long.MIN_VALUE before it was ever granted. */
    public long expiresAtMs() {
        return expiresAtMs;
    }

    /** Whether any registration or heartbeat was ever answered. */
    public boolean everGranted() {
        return expiresAtMs != Long.MIN_VALUE;
    }
}
