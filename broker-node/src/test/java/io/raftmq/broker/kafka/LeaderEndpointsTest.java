package io.raftmq.broker.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.BrokerState;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.protocol.common.Endpoint;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

/** The NodeEndpoints of leaders: a leader's Kafka endpoint once, a leader without one left out. */
class LeaderEndpointsTest {

    private static BrokerRegistration broker(int id, String rack, Endpoint... endpoints) {
        return new BrokerRegistration(id, 10 + id, UUID.randomUUID(), List.of(endpoints), rack, BrokerState.UNFENCED,
                5);
    }

    private static Endpoint endpoint(String listener, String host, int port) {
        return Endpoint.newBuilder().setListener(listener).setHost(host).setPort(port).build();
    }

    @Test
    void eachLeaderWithAKafkaEndpointOnceInOrder() {
        MetadataImage image = new MetadataImage(7, Map.of(
                1, broker(1, "", endpoint("grpc", "h1", 9000), endpoint("kafka", "h1", 9092)),
                2, broker(2, "rack-b", endpoint("kafka", "h2", 19092)),
                3, broker(3, "", endpoint("grpc", "h3", 9000))), Map.of(), Map.of(), null, 0, null);
        LeaderEndpoints leaders = new LeaderEndpoints(image);
        leaders.add(2);
        leaders.add(3); // no Kafka listener
        leaders.add(-1); // no leader
        leaders.add(9); // not registered
        leaders.add(1);
        leaders.add(2);
        assertEquals(List.of(new LeaderEndpoints.Node(2, "h2", 19092, "rack-b"),
                new LeaderEndpoints.Node(1, "h1", 9092, null)), leaders.nodes());
    }

    @Test
    void onlyNotLeaderAndFencedEpochNameTheLeader() {
        assertEquals(true, LeaderEndpoints.namesLeader(Errors.NOT_LEADER_OR_FOLLOWER.code()));
        assertEquals(true, LeaderEndpoints.namesLeader(Errors.FENCED_LEADER_EPOCH.code()));
        assertEquals(false, LeaderEndpoints.namesLeader(Errors.UNKNOWN_LEADER_EPOCH.code()));
        assertEquals(false, LeaderEndpoints.namesLeader(Errors.NONE.code()));
    }
}
