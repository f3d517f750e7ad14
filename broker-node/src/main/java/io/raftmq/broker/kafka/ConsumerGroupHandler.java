package io.raftmq.broker.kafka;

import io.raftmq.broker.BrokerApi;
import io.raftmq.broker.group.ConsumerGroupDescription;
import io.raftmq.broker.group.ConsumerHeartbeat;
import io.raftmq.broker.group.ConsumerHeartbeatAnswer;
import io.raftmq.broker.group.GroupCoordinator;
import io.raftmq.common.ApiError;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.protocol.common.ErrorCode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.ConsumerGroupDescribeRequestData;
import org.apache.kafka.common.message.ConsumerGroupDescribeResponseData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;

/**
 * Kafka ConsumerGroupHeartbeat v0-1 and ConsumerGroupDescribe v0-1 (KIP-848, group.protocol=consumer),
 * translated to {@link GroupCoordinator#consumerGroupHeartbeat} and
 * {@link GroupCoordinator#describeConsumerGroup} and back.
 *
 * <p>What only the Kafka wire decides is here: topic ids become names and back through this
 * broker's metadata (owned partitions of a topic id it does not know are left out, as are assigned
 * partitions of a topic it no longer knows); a v1 heartbeat must carry a member id the client made
 * up (KIP-1082: INVALID_REQUEST otherwise), while v0 may leave it empty for the coordinator to
 * choose; SubscribedTopicRegex exists from v1 on. Authorized operations are not reported (no ACLs).
 *
 * <p>Stateless; called on a connection's event loop. Answers come once the coordinator's records
 * are committed.
 */
final class ConsumerGroupHandler {
    private final BrokerApi api;
    private final GroupCoordinator coordinator;

    ConsumerGroupHandler(BrokerApi api, GroupCoordinator coordinator) {
        this.api = api;
        this.coordinator = coordinator;
    }

    CompletableFuture<KafkaResponse> heartbeat(KafkaRequest request) {
        ConsumerGroupHeartbeatRequestData req = (ConsumerGroupHeartbeatRequestData) request.body();
        if (request.apiVersion() >= 1 && req.memberId().isEmpty()) {
            return CompletableFuture.completedFuture(KafkaResponse.send(heartbeatResponse(null, ApiError.of(ErrorCode.INVALID_REQUEST, "MemberId is empty: from"
                            + " ConsumerGroupHeartbeat v1 on the client makes up its member id"), req.memberId())));
        }
        MetadataImage image = api.image();
        Map<String, Set<Integer>> owned = null;
        if (req.topicPartitions() != null) {
            owned = new TreeMap<>();
            for (ConsumerGroupHeartbeatRequestData.TopicPartitions tp : req.topicPartitions()) {
                TopicImage topic = image.topic(KafkaIds.fromKafka(tp.topicId()));
                if (topic != null) {
                    owned.computeIfAbsent(topic.name(), t -> new HashSet<>()).addAll(tp.partitions());
                }
            }
        }
        String regex = request.apiVersion() >= 1 ? req.subscribedTopicRegex() : null;
        String clientHost = request.clientAddress() == null ? "" : request.clientAddress().getAddress() != null
                ? request.clientAddress().getAddress().getHostAddress() : request.clientAddress().getHostString();
        ConsumerHeartbeat heartbeat = new ConsumerHeartbeat(req.groupId(), req.memberId(), req.memberEpoch(),
                req.instanceId(), req.rackId(), req.rebalanceTimeoutMs(), req.subscribedTopicNames(), regex,
                req.serverAssignor(), owned, request.header().clientId(), clientHost);
        return request.onLoop(coordinator.consumerGroupHeartbeat(heartbeat),
                answer -> KafkaResponse.send(heartbeatResponse(answer, answer.error(), answer.memberId())));
    }

    private ConsumerGroupHeartbeatResponseData heartbeatResponse(ConsumerHeartbeatAnswer answer, ApiError error,
            String memberId) {
        ConsumerGroupHeartbeatResponseData out = new ConsumerGroupHeartbeatResponseData()
                .setErrorCode(KafkaErrors.code(error))
                .setErrorMessage(KafkaErrors.message(error))
                .setMemberId(memberId == null || memberId.isEmpty() ? null : memberId)
                .setMemberEpoch(answer == null ? -1 : answer.memberEpoch())
                .setHeartbeatIntervalMs(answer == null ? 0 : answer.heartbeatIntervalMs());
        if (answer != null && error.isSuccess() && answer.assignment() != null) {
            MetadataImage image = api.image();
            List<ConsumerGroupHeartbeatResponseData.TopicPartitions> topics = new ArrayList<>();
            answer.assignment().forEach((name, partitions) -> {
                TopicImage topic = image.topic(name);
                if (topic != null && topic.id() != null) {
                    topics.add(new ConsumerGroupHeartbeatResponseData.TopicPartitions()
                            .setTopicId(KafkaIds.toKafka(topic.id())).setPartitions(new ArrayList<>(partitions)));
                }
            });
            out.setAssignment(new ConsumerGroupHeartbeatResponseData.Assignment().setTopicPartitions(topics));
        }
        return out;
    }

    CompletableFuture<KafkaResponse> describe(KafkaRequest request) {
        ConsumerGroupDescribeRequestData req = (ConsumerGroupDescribeRequestData) request.body();
        List<CompletableFuture<ConsumerGroupDescription>> each = new ArrayList<>();
        for (String groupId : req.groupIds()) {
            each.add(coordinator.describeConsumerGroup(groupId));
        }
        CompletableFuture<Void> all = CompletableFuture.allOf(each.toArray(CompletableFuture[]::new));
        return request.onLoop(all, done -> {
            MetadataImage image = api.image();
            ConsumerGroupDescribeResponseData out = new ConsumerGroupDescribeResponseData();
            for (CompletableFuture<ConsumerGroupDescription> f : each) {
                out.groups().add(describedGroup(f.join(), image));
            }
            return KafkaResponse.send(out);
        });
    }

    private static ConsumerGroupDescribeResponseData.DescribedGroup describedGroup(ConsumerGroupDescription g,
            MetadataImage image) {
        ConsumerGroupDescribeResponseData.DescribedGroup out = new ConsumerGroupDescribeResponseData.DescribedGroup()
                .setGroupId(g.groupId())
                .setErrorCode(KafkaErrors.code(g.error()))
                .setErrorMessage(KafkaErrors.message(g.error()));
        if (g.error().isFailure()) {
            return out.setGroupState(g.state());
        }
        out.setGroupState(g.state()).setGroupEpoch(g.groupEpoch()).setAssignmentEpoch(g.assignmentEpoch())
                .setAssignorName(g.assignorName());
        for (ConsumerGroupDescription.Member m : g.members()) {
            out.members().add(new ConsumerGroupDescribeResponseData.Member()
                    .setMemberId(m.memberId())
                    .setInstanceId(m.instanceId())
                    .setRackId(m.rackId())
                    .setMemberEpoch(m.memberEpoch())
                    .setClientId(m.clientId())
                    .setClientHost(m.clientHost())
                    .setSubscribedTopicNames(new ArrayList<>(m.subscribedTopicNames()))
                    .setSubscribedTopicRegex(m.subscribedTopicRegex())
                    .setAssignment(assignment(m.assignment(), image))
                    .setTargetAssignment(assignment(m.targetAssignment(), image))
                    .setMemberType((byte) 1));
        }
        return out;
    }

    private static ConsumerGroupDescribeResponseData.Assignment assignment(Map<String, ? extends Set<Integer>> parts,
            MetadataImage image) {
        List<ConsumerGroupDescribeResponseData.TopicPartitions> topics = new ArrayList<>();
        parts.forEach((name, partitions) -> {
            TopicImage topic = image.topic(name);
            topics.add(new ConsumerGroupDescribeResponseData.TopicPartitions()
                    .setTopicId(KafkaIds.toKafka(topic == null ? null : topic.id()))
                    .setTopicName(name)
                    .setPartitions(new ArrayList<>(partitions)));
        });
        return new ConsumerGroupDescribeResponseData.Assignment().setTopicPartitions(topics);
    }
}
