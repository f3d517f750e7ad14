package io.raftmq.protocol.record;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks acknowledged writes against a partition's log as read back: a record acknowledged at an
 * offset must be in the log at that offset with its value, else it is lost; a value found more
 * than once is a duplicate. Each write's value must be unique (a sequence number, say) for the
 * verdict to mean anything. Used by the failover demo and the failover tests.
 *
 * <p>Not thread-safe: one thread records the acknowledgements and the records read, then asks for
 * the verdict.
 */
public final class DeliveryCheck {
    /** At most this many lost records are described in a verdict. */
    static final int MAX_PROBLEMS = 20;

    /**
     * @param acked acknowledgements recorded
     * @param lost acknowledgements whose offset holds another value, or none
     * @param duplicates extra copies of values read (a value read three times counts two)
     * @param problems the first lost records, each described
     */
    public record Verdict(int acked, int lost, int duplicates, List<String> problems) {}

    private record Ack(long offset, String value) {}

    private final List<Ack> acks = new ArrayList<>();
    private final Map<Long, String> valueAt = new HashMap<>();
    private final Map<String, Integer> copies = new HashMap<>();

    /** A write of {@code value} was acknowledged at {@code offset}. */
    public void acknowledged(long offset, String value) {
        acks.add(new Ack(offset, value));
    }

    /** The log holds {@code value} at {@code offset}. */
    public void read(long offset, String value) {
        valueAt.put(offset, value);
        copies.merge(value, 1, Integer::sum);
    }

    /** The acknowledgements compared with the records read so far. */
    public Verdict verdict() {
        int lost = 0;
        List<String> problems = new ArrayList<>();
        for (Ack a : acks) {
            String found = valueAt.get(a.offset());
            if (!a.value().equals(found)) {
                lost++;
                if (problems.size() < MAX_PROBLEMS) {
                    problems.add(a.value() + " was acknowledged at offset " + a.offset() + " but the log has "
                            + (found == null ? "nothing" : found) + " there");
                }
            }
        }
        int duplicates = 0;
        for (int c : copies.values()) {
            duplicates += c - 1;
        }
        return new Verdict(acks.size(), lost, duplicates, List.copyOf(problems));
    }
}
