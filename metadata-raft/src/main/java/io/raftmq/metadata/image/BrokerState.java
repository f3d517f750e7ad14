package io.raftmq.metadata.image;

/**
 * A registered broker's state in the metadata image.
 *
 * <pre>
 *   (RegisterBroker) -> FENCED -(caught up)-> UNFENCED -(session expired)-> FENCED
 *                                             UNFENCED -(wants to stop)-> CONTROLLED_SHUTDOWN
 *                                                        CONTROLLED_SHUTDOWN -(session ends)-> FENCED
 *   any state -(RegisterBroker of a new process)-> FENCED
 * </pre>
 */
public enum BrokerState {
    /** Registered but not eligible: not caught up with metadata yet, or its session expired. */
    FENCED,
    /** Eligible to lead partitions and to be in ISRs. */
    UNFENCED,
    /** Stopping on request: keeps its session while its leaderships move away; not eligible. */
    CONTROLLED_SHUTDOWN;

    /** Whether a broker in this state may become a leader or join an ISR. */
    public boolean isEligible() {
        return this == UNFENCED;
    }
}
