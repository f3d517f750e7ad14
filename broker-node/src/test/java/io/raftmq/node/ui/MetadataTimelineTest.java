package io.raftmq.node.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.BrokerState;
import io.raftmq.metadata.image.ControllerRegistration;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.protocol.common.Endpoint;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class MetadataTimelineTest {
    private static final UUID TOPIC = new UUID(1, 2);
    private static final Endpoint GRPC = Endpoint.newBuilder().setListener("grpc").setHost("h").setPort(1).build();

    @Test
    void theFirstImageIsTheBaselineAndLaterOnesSayWhatChanged() {
        MetadataTimeline timeline = new MetadataTimeline();
        MetadataImage start = image(10, 1, 1, Map.of(1, BrokerState.UNFENCED, 2, BrokerState.UNFENCED),
                new PartitionRegistration(List.of(2, 1), List.of(2, 1), 2, 4, 7));
        assertEquals(List.of(), timeline.apply(start, 1_000));

        // Node 2 dies: the controller fences it, moves the leadership and shrinks the ISR in one batch.
        MetadataImage failover = image(11, 1, 1, Map.of(1, BrokerState.UNFENCED, 2, BrokerState.FENCED),
                new PartitionRegistration(List.of(2, 1), List.of(1), 1, 5, 8));
        List<MetadataTimeline.Event> events = timeline.apply(failover, 2_000);
        assertEquals(List.of("node 2 fenced", "t-0 led by node 1 at epoch 5 (was node 2)",
                "t-0 ISR shrunk to [1] (without [2])"), events.stream().map(MetadataTimeline.Event::text).toList());
        assertEquals(List.of("warn", "info", "warn"), events.stream().map(MetadataTimeline.Event::severity).toList());
        events.forEach(e -> {
            assertEquals(2_000, e.timeMs());
            assertEquals(11, e.metadataOffset());
        });

        // It comes back: registered anew, unfenced, caught up; a new controller was elected meanwhile.
        MetadataImage back = withEpoch(image(12, 2, 3, Map.of(1, BrokerState.UNFENCED, 2, BrokerState.UNFENCED),
                new PartitionRegistration(List.of(2, 1), List.of(1, 2), 1, 5, 9)), 2, 110);
        assertEquals(List.of("node 2 elected active controller at epoch 3 (was node 1)",
                "node 2 registered with broker epoch 110", "t-0 ISR expanded to [1, 2] ([2] caught up)"),
                timeline.apply(back, 3_000).stream().map(MetadataTimeline.Event::text).toList());

        MetadataImage deleted = new MetadataImage(13, back.brokers(), Map.of(), Map.of(), back.controller(), 0, "c");
        assertEquals(List.of("topic t deleted"), timeline.apply(deleted, 4_000).stream()
                .map(MetadataTimeline.Event::text).toList());
        assertEquals(7, timeline.events().size());
    }

    @Test
    void keepsOnlyTheNewestEvents() {
        MetadataTimeline timeline = new MetadataTimeline();
        BrokerState state = BrokerState.UNFENCED;
        for (int i = 0; i < MetadataTimeline.CAPACITY + 50; i++) {
            state = state == BrokerState.UNFENCED ? BrokerState.FENCED : BrokerState.UNFENCED;
            timeline.apply(image(i, 1, 1, Map.of(1, state), new PartitionRegistration(List.of(1), List.of(1), 1, 1,
                    1)), i);
        }
        assertEquals(MetadataTimeline.CAPACITY, timeline.events().size());
        assertEquals(MetadataTimeline.CAPACITY + 49, timeline.events().get(MetadataTimeline.CAPACITY - 1).timeMs());
    }

    private static MetadataImage image(long offset, int controllerId, long controllerEpoch,
            Map<Integer, BrokerState> states, PartitionRegistration partition) {
        Map<Integer, BrokerRegistration> brokers = new HashMap<>();
        states.forEach((id, state) -> brokers.put(id, new BrokerRegistration(id, 100 + id, new UUID(0, id),
                List.of(GRPC), "", state, 1)));
        TopicImage topic = new TopicImage("t", TOPIC, new TreeMap<>(), List.of(partition));
        return new MetadataImage(offset, brokers, Map.of(TOPIC, topic), Map.of("t", TOPIC),
                new ControllerRegistration(controllerId, controllerEpoch, GRPC), 0, "c");
    }

    private static MetadataImage withEpoch(MetadataImage image, int brokerId, long epoch) {
        Map<Integer, BrokerRegistration> brokers = new HashMap<>(image.brokers());
        BrokerRegistration b = brokers.get(brokerId);
        brokers.put(brokerId, new BrokerRegistration(b.id(), epoch, new UUID(9, 9), b.endpoints(), b.rack(), b.state(),
                b.registrationOffset()));
        return new MetadataImage(image.offset(), brokers, image.topicsById(), image.topicIdsByName(),
                image.controller(), 0, "c");
    }
}
