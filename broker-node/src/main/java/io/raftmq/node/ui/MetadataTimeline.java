package io.raftmq.node.ui;

import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.BrokerState;
import io.raftmq.metadata.image.ControllerRegistration;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The web view's timeline: the state changes between consecutive metadata images as this node
 * applies them, each stamped with the time it applied it: controller elected, broker registered,
 * fenced, unfenced, shutting down or gone, topic created or deleted, partition leader moved (with
 * its epoch), ISR shrunk or expanded. The first image only sets the baseline (nothing before it is
 * known as a change). Keeps the newest {@link #CAPACITY} events.
 *
 * <p>Threads: owned by the web view's thread ({@link WebView}); not thread-safe.
 */
final class MetadataTimeline {
    static final int CAPACITY = 200;

    /**
     * One change. {@code kind} names it for the page (controller, broker, topic, leader, isr);
     * {@code text} says it, e.g. "node 2 fenced"; {@code severity}: info, warn (a loss: fenced,
     * leaderless, ISR shrunk) or good (a recovery).
     */
    record Event(long timeMs, long metadataOffset, String kind, String severity, String text) {}

    private final ArrayDeque<Event> events = new ArrayDeque<>();
    private MetadataImage previous;

    /** The changes from the previous image to {@code image}, applied at {@code nowMs}; they are also kept. */
    List<Event> apply(MetadataImage image, long nowMs) {
        MetadataImage before = previous;
        previous = image;
        if (before == null) {
            return List.of();
        }
        List<Event> out = new ArrayList<>();
        Changes changes = new Changes(out, nowMs, image.offset());
        controller(before.controller(), image.controller(), changes);
        for (BrokerRegistration b : image.brokersSorted()) {
            broker(before.broker(b.id()), b, changes);
        }
        for (BrokerRegistration b : before.brokersSorted()) {
            if (image.broker(b.id()) == null) {
                changes.add("broker", "warn", "node " + b.id() + " unregistered");
            }
        }
        for (TopicImage t : image.topicsSorted()) {
            TopicImage old = before.topic(t.id());
            if (old == null) {
                changes.add("topic", "info", "topic " + t.name() + " created: " + t.numPartitions()
                        + " partition(s), replication factor " + t.replicationFactor());
                continue;
            }
            for (int p = 0; p < t.numPartitions(); p++) {
                partition(t.name() + "-" + p, p < old.numPartitions() ? old.partition(p) : null, t.partition(p),
                        changes);
            }
        }
        for (TopicImage t : before.topicsSorted()) {
            if (image.topic(t.id()) == null) {
                changes.add("topic", "info", "topic " + t.name() + " deleted");
            }
        }
        events.addAll(out);
        while (events.size() > CAPACITY) {
            events.removeFirst();
        }
        return out;
    }

    /** The kept events, oldest first. */
    List<Event> events() {
        return List.copyOf(events);
    }

    private static void controller(ControllerRegistration before, ControllerRegistration now, Changes changes) {
        if (now == null || (before != null && before.controllerId() == now.controllerId()
                && before.controllerEpoch() == now.controllerEpoch())) {
            return;
        }
        changes.add("controller", "info", "node " + now.controllerId() + " elected active controller at epoch "
                + now.controllerEpoch() + (before == null || before.controllerId() == now.controllerId() ? ""
                        : " (was node " + before.controllerId() + ")"));
    }

    private static void broker(BrokerRegistration before, BrokerRegistration now, Changes changes) {
        if (before == null || before.epoch() != now.epoch()) {
            changes.add("broker", "info", "node " + now.id() + " registered with broker epoch " + now.epoch()
                    + (now.rack().isEmpty() ? "" : " in rack " + now.rack()));
            return;
        }
        if (before.state() == now.state()) {
            return;
        }
        switch (now.state()) {
            case FENCED -> changes.add("broker", "warn", "node " + now.id() + " fenced"
                    + (before.state() == BrokerState.CONTROLLED_SHUTDOWN ? " after its controlled shutdown" : ""));
            case UNFENCED -> changes.add("broker", "good", "node " + now.id() + " unfenced");
            case CONTROLLED_SHUTDOWN -> changes.add("broker", "info", "node " + now.id() + " shutting down");
        }
    }

    private static void partition(String name, PartitionRegistration before, PartitionRegistration now,
            Changes changes) {
        if (before == null) {
            changes.add("leader", "info", name + " created, led by " + leader(now) + " at epoch " + now.leaderEpoch());
            return;
        }
        if (before.leader() != now.leader() || before.leaderEpoch() != now.leaderEpoch()) {
            changes.add("leader", now.hasLeader() ? "info" : "warn", now.hasLeader()
                    ? name + " led by " + leader(now) + " at epoch " + now.leaderEpoch()
                            + (before.leader() == now.leader() ? "" : " (was " + leader(before) + ")")
                    : name + " has no leader (epoch " + now.leaderEpoch() + "; was " + leader(before) + ")");
        }
        if (!Objects.equals(before.isr(), now.isr())) {
            List<Integer> removed = new ArrayList<>(before.isr());
            removed.removeAll(now.isr());
            List<Integer> added = new ArrayList<>(now.isr());
            added.removeAll(before.isr());
            if (!removed.isEmpty()) {
                changes.add("isr", "warn", name + " ISR shrunk to " + now.isr() + " (without " + removed + ")");
            }
            if (!added.isEmpty()) {
                changes.add("isr", "good", name + " ISR expanded to " + now.isr() + " (" + added + " caught up)");
            }
        }
    }

    private static String leader(PartitionRegistration p) {
        return p.hasLeader() ? "node " + p.leader() : "no leader";
    }

    private record Changes(List<Event> out, long nowMs, long offset) {
        void add(String kind, String severity, String text) {
            out.add(new Event(nowMs, offset, kind, severity, text));
        }
    }
}
