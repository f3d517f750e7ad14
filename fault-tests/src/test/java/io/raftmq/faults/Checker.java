package io.raftmq.faults;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Judges a fault run after healing. The invariants (docs/RELIABILITY.md):
 * <ol>
 *   <li><b>lost</b>: every acknowledged record is in the final log at its acknowledged offset;</li>
 *   <li><b>duplicated</b>: an idempotent producer's record is there exactly once (a non-idempotent
 *       producer may store a retried record twice, as in Kafka: counted, not a violation);</li>
 *   <li><b>conflict</b>: no offset ever held two different records, over everything anyone saw
 *       (acknowledgements, every consumer read, the final log, each replica's files);</li>
 *   <li><b>divergence</b>: every replica's log equals the final log up to the high watermark;</li>
 *   <li><b>order</b>: each consumer read each partition in order with no gap while it owned it, and
 *       the group read every offset below the high watermark;</li>
 *   <li><b>commits</b>: committed offsets read back never moved backwards, and none ended below an
 *       offset whose commit had been acknowledged;</li>
 *   <li><b>one copy</b>: no acks=all acknowledgement arrived while no follower could copy the
 *       partition's records (min.insync.replicas=2).</li>
 * </ol>
 * With {@code tailLossBeforeNanos} (a power loss of every replica of a {@code flush.mode=os}
 * topic) a partition may lose a suffix of what was acknowledged before it, as the docs allow,
 * and the offsets of that suffix may then hold new records; nothing else is relaxed.
 */
final class Checker {
    /** What the run found; {@code problems} holds the first examples. */
    record Verdict(long acked, long lost, long duplicated, long plainDuplicates, long conflicts, long divergences,
            long orderViolations, long commitViolations, long underReplicated, long tailLost, List<String> problems) {
        boolean clean() {
            return lost == 0 && duplicated == 0 && conflicts == 0 && divergences == 0 && orderViolations == 0
                    && commitViolations == 0 && underReplicated == 0;
        }

        String summary() {
            return String.format("%d acknowledged, %d lost, %d duplicated (idempotent), %d conflicts, %d divergent,"
                    + " %d order, %d commit, %d with one copy; %d non-idempotent duplicates (allowed),"
                    + " %d tail-lost (allowed)", acked, lost, duplicated, conflicts, divergences, orderViolations,
                    commitViolations, underReplicated, plainDuplicates, tailLost);
        }
    }

    /**
     * A time in which no follower of {@code partition} could receive anything ({@code why}), from
     * the moment every cut was in force: a record sent in it cannot have a second copy before it
     * ends, so no acks=all acknowledgement of such a record may arrive in it. (A record sent
     * earlier may have reached a follower before the cut and be acknowledged later, when a
     * lagging follower leaves the ISR: that is not one copy.)
     */
    record NoAckWindow(int partition, long fromNanos, long toNanos, String why) {}

    private static final int MAX_PROBLEMS = 30;

    private final History history;
    private final Map<Integer, TreeMap<Long, String>> finalLog;
    private final Map<Integer, Long> highWatermarks;
    private final Map<Integer, Map<Integer, TreeMap<Long, String>>> replicas;
    private final Map<Integer, Long> finalCommitted;
    private final long faultNanos;
    private final long tailLossAllowedBeforeNanos;
    private final List<NoAckWindow> noAckWindows;
    private final List<String> problems = new ArrayList<>();

    /**
     * @param finalLog partition -> offset -> value, read from the leaders up to the high watermark
     * @param replicas node -> partition -> its log up to the high watermark (a missing partition
     *     means the node holds no replica of it)
     * @param faultNanos when the fault was injected (problems name times relative to it)
     * @param tailLossBeforeNanos -1, or the time of a power loss of every replica of a flush.mode=os
     *     topic: records acknowledged before it may lose a tail
     * @param noAckWindows times in which a partition's followers could not copy anything
     */
    Checker(History history, Map<Integer, TreeMap<Long, String>> finalLog, Map<Integer, Long> highWatermarks,
            Map<Integer, Map<Integer, TreeMap<Long, String>>> replicas, Map<Integer, Long> finalCommitted,
            long faultNanos, long tailLossBeforeNanos, List<NoAckWindow> noAckWindows) {
        this.history = history;
        this.finalLog = finalLog;
        this.highWatermarks = highWatermarks;
        this.replicas = replicas;
        this.finalCommitted = finalCommitted;
        this.faultNanos = faultNanos;
        this.noAckWindows = noAckWindows;
        this.tailLossAllowedBeforeNanos = tailLossBeforeNanos;
    }

    private void problem(String s) {
        if (problems.size() < MAX_PROBLEMS) {
            problems.add(s);
        }
    }

    Verdict check() {
        Map<Integer, Long> tailFrom = tailLossStarts();
        long lost = 0;
        long tailLost = 0;
        for (History.Ack a : history.acks) {
            String found = finalLog.getOrDefault(a.partition(), new TreeMap<>()).get(a.offset());
            if (!a.id().equals(found)) {
                if (inAllowedTail(a.partition(), a.offset(), a.nanos(), tailFrom)) {
                    tailLost++;
                } else {
                    lost++;
                    problem("lost: " + a.id() + " acknowledged at " + a.partition() + "@" + a.offset()
                            + ", the final log has " + (found == null ? "nothing" : found) + " there");
                }
            }
        }
        long[] dups = duplicates();
        long conflicts = conflicts(tailFrom);
        long divergences = divergences();
        long order = order(tailFrom);
        long commits = commits(tailFrom);
        long underReplicated = underReplicated();
        return new Verdict(history.acks.size(), lost, dups[0], dups[1], conflicts, divergences, order, commits,
                underReplicated, tailLost, List.copyOf(problems));
    }

    /** 7. acks=all with min.insync.replicas=2 is never answered while no follower can have copied the record. */
    private long underReplicated() {
        long count = 0;
        for (NoAckWindow w : noAckWindows) {
            for (History.Ack a : history.acks) {
                if (a.partition() == w.partition() && a.sentNanos() > w.fromNanos() && a.nanos() < w.toNanos()) {
                    count++;
                    problem("one copy: " + a.id() + " sent " + at(a.sentNanos()) + " and acknowledged at "
                            + a.partition() + "@" + a.offset() + " " + at(a.nanos()) + ", while " + w.why());
                }
            }
        }
        return count;
    }

    /** Partition -> the lowest offset of an allowed lost tail (none when no tail loss is allowed). */
    private Map<Integer, Long> tailLossStarts() {
        Map<Integer, Long> from = new HashMap<>();
        if (tailLossAllowedBeforeNanos < 0) {
            return from;
        }
        for (History.Ack a : history.acks) {
            String found = finalLog.getOrDefault(a.partition(), new TreeMap<>()).get(a.offset());
            if (a.nanos() < tailLossAllowedBeforeNanos && !a.id().equals(found)) {
                from.merge(a.partition(), a.offset(), Math::min);
            }
        }
        // A suffix only: an acknowledged record above the first lost one that survived means a hole.
        for (History.Ack a : history.acks) {
            Long start = from.get(a.partition());
            String found = finalLog.getOrDefault(a.partition(), new TreeMap<>()).get(a.offset());
            if (start != null && a.nanos() < tailLossAllowedBeforeNanos && a.offset() > start && a.id().equals(found)) {
                problem("not a tail: " + a.partition() + "@" + start + " was lost but " + a.id() + " at "
                        + a.partition() + "@" + a.offset() + " survived");
                from.remove(a.partition());
            }
        }
        return from;
    }

    private boolean inAllowedTail(int partition, long offset, long nanos, Map<Integer, Long> tailFrom) {
        Long start = tailFrom.get(partition);
        return start != null && offset >= start && nanos < tailLossAllowedBeforeNanos;
    }

    /** [idempotent duplicates, non-idempotent duplicates] in the final log. */
    private long[] duplicates() {
        Set<String> idempotentProducers = new HashSet<>();
        for (History.Ack a : history.acks) {
            if (a.idempotent()) {
                idempotentProducers.add(a.producer());
            }
        }
        Map<String, List<String>> where = new HashMap<>();
        finalLog.forEach((p, log) -> log.forEach((o, v) -> where.computeIfAbsent(v, k -> new ArrayList<>())
                .add(p + "@" + o)));
        long idempotent = 0;
        long plain = 0;
        for (Map.Entry<String, List<String>> e : where.entrySet()) {
            if (e.getValue().size() < 2) {
                continue;
            }
            String producer = e.getKey().substring(0, Math.max(0, e.getKey().lastIndexOf('-')));
            if (idempotentProducers.contains(producer)) {
                idempotent += e.getValue().size() - 1;
                problem("duplicated: " + e.getKey() + " (idempotent producer) stored at " + e.getValue());
            } else {
                plain += e.getValue().size() - 1;
            }
        }
        return new long[] {idempotent, plain};
    }

    private long conflicts(Map<Integer, Long> tailFrom) {
        Map<String, Map<String, String>> seen = new HashMap<>(); // "p@o" -> value -> who saw it
        for (History.Ack a : history.acks) {
            saw(seen, a.partition(), a.offset(), a.id(), "ack of " + a.producer());
        }
        history.consumers.forEach((name, events) -> {
            for (History.ConsumerEvent e : events) {
                if (e instanceof History.Consumed c) {
                    saw(seen, c.partition(), c.offset(), c.value(), name);
                }
            }
        });
        finalLog.forEach((p, log) -> log.forEach((o, v) -> saw(seen, p, o, v, "final log")));
        replicas.forEach((node, logs) -> logs.forEach((p, log) -> log.forEach((o, v) -> saw(seen, p, o, v,
                "replica on node " + node))));
        long conflicts = 0;
        for (Map.Entry<String, Map<String, String>> e : seen.entrySet()) {
            if (e.getValue().size() > 1) {
                String[] po = e.getKey().split("@");
                Long start = tailFrom.get(Integer.parseInt(po[0]));
                if (start != null && Long.parseLong(po[1]) >= start) {
                    continue; // the lost tail's offsets were written again after the power loss
                }
                conflicts++;
                problem("conflict: " + e.getKey() + " held " + e.getValue());
            }
        }
        return conflicts;
    }

    private static void saw(Map<String, Map<String, String>> seen, int p, long o, String value, String who) {
        seen.computeIfAbsent(p + "@" + o, k -> new HashMap<>()).putIfAbsent(value, who);
    }

    private long divergences() {
        long count = 0;
        for (Map.Entry<Integer, Map<Integer, TreeMap<Long, String>>> node : replicas.entrySet()) {
            for (Map.Entry<Integer, TreeMap<Long, String>> part : node.getValue().entrySet()) {
                int p = part.getKey();
                long hw = highWatermarks.getOrDefault(p, 0L);
                TreeMap<Long, String> expected = new TreeMap<>(finalLog.getOrDefault(p, new TreeMap<>()).headMap(hw));
                TreeMap<Long, String> actual = new TreeMap<>(part.getValue().headMap(hw));
                if (!expected.equals(actual)) {
                    count++;
                    long first = firstDifference(expected, actual);
                    problem("divergence: node " + node.getKey() + " partition " + p + " (hw " + hw + ") differs from"
                            + " the leader's log from offset " + first + ": " + actual.get(first) + " vs "
                            + expected.get(first) + " (" + actual.size() + " vs " + expected.size() + " records)");
                }
            }
        }
        return count;
    }

    private static long firstDifference(TreeMap<Long, String> a, TreeMap<Long, String> b) {
        long end = Math.max(a.isEmpty() ? 0 : a.lastKey() + 1, b.isEmpty() ? 0 : b.lastKey() + 1);
        for (long o = 0; o < end; o++) {
            if (!java.util.Objects.equals(a.get(o), b.get(o))) {
                return o;
            }
        }
        return -1;
    }

    private long order(Map<Integer, Long> tailFrom) {
        long violations = 0;
        Map<Integer, Set<Long>> groupRead = new HashMap<>();
        for (Map.Entry<String, List<History.ConsumerEvent>> c : history.consumers.entrySet()) {
            Map<Integer, Long> next = new HashMap<>(); // owned partition -> next offset (-1: not read yet)
            for (History.ConsumerEvent e : c.getValue()) {
                if (e instanceof History.Assigned a) {
                    a.partitions().forEach(p -> next.put(p, -1L));
                } else if (e instanceof History.Revoked r) {
                    r.partitions().forEach(next::remove);
                } else if (e instanceof History.Consumed r) {
                    groupRead.computeIfAbsent(r.partition(), p -> new HashSet<>()).add(r.offset());
                    Long expected = next.get(r.partition());
                    if (expected != null && expected >= 0 && r.offset() != expected
                            && !tailFrom.containsKey(r.partition())) {
                        violations++;
                        problem("order: " + c.getKey() + " read " + r.partition() + "@" + r.offset() + " after "
                                + r.partition() + "@" + (expected - 1) + (r.offset() > expected ? " (gap)" : " (back)"));
                    }
                    next.put(r.partition(), r.offset() + 1);
                }
            }
        }
        for (Map.Entry<Integer, Long> hw : highWatermarks.entrySet()) {
            Set<Long> read = groupRead.getOrDefault(hw.getKey(), Set.of());
            long missing = 0;
            long firstMissing = -1;
            for (long o = 0; o < hw.getValue(); o++) {
                if (!read.contains(o)) {
                    missing++;
                    firstMissing = firstMissing < 0 ? o : firstMissing;
                }
            }
            if (missing > 0) {
                violations++;
                problem("order: the group never read " + missing + " offsets of partition " + hw.getKey()
                        + " below its high watermark " + hw.getValue() + ", the first " + firstMissing);
            }
        }
        return violations;
    }

    private String at(long nanos) {
        return String.format("%+.1f s from the fault", (nanos - faultNanos) / 1e9);
    }

    /**
     * A partition that lost an allowed tail may see its committed offset move back below the new log
     * end (the group resets, as a Kafka consumer does on OFFSET_OUT_OF_RANGE): not judged.
     */
    private long commits(Map<Integer, Long> tailFrom) {
        long violations = 0;
        List<History.Commit> samples = new ArrayList<>(history.commitSamples);
        samples.removeIf(c -> tailFrom.containsKey(c.partition()));
        samples.sort(Comparator.comparingLong(History.Commit::nanos));
        Map<Integer, History.Commit> last = new HashMap<>();
        for (History.Commit s : samples) {
            History.Commit before = last.put(s.partition(), s);
            if (before != null && s.offset() < before.offset()) {
                violations++;
                problem("commits: the committed offset of partition " + s.partition() + " read back moved back: "
                        + before.offset() + " (read " + at(before.nanos()) + ") -> " + s.offset() + " (read "
                        + at(s.nanos()) + ")");
            }
        }
        List<History.Commit> acks = new ArrayList<>(history.commitAcks);
        acks.removeIf(c -> tailFrom.containsKey(c.partition()));
        // An acknowledged commit is never undone: every read sent after the acknowledgement sees it.
        for (History.Commit c : acks) {
            for (History.Commit s : samples) {
                if (s.partition() == c.partition() && s.nanos() > c.nanos() && s.offset() < c.offset()) {
                    violations++;
                    problem("commits: " + c.source() + "'s commit of " + c.offset() + " for partition " + c.partition()
                            + " was acknowledged " + at(c.nanos()) + ", but a read sent " + at(s.nanos())
                            + " returned " + s.offset());
                    break;
                }
            }
        }
        Map<Integer, Long> acked = new HashMap<>();
        for (History.Commit c : acks) {
            acked.merge(c.partition(), c.offset(), Math::max);
        }
        for (Map.Entry<Integer, Long> e : acked.entrySet()) {
            long now = finalCommitted.getOrDefault(e.getKey(), -1L);
            if (now < e.getValue()) {
                violations++;
                problem("commits: partition " + e.getKey() + " ends committed at " + now + " but a commit of "
                        + e.getValue() + " was acknowledged");
            }
        }
        return violations;
    }
}
