package io.raftmq.broker.kafka;

import static io.raftmq.broker.kafka.KafkaAuthorization.caller;

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
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.ConsumerGroupDescribeRequestData;
import org.apache.kafka.common.message.ConsumerGroupDescribeResponseData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Kafka ConsumerGroupHeartbeat v0-1 and ConsumerGroupDescribe v0-1 (KIP-848, group.protocol=consumer),
 * translated to {@link GroupCoordinator#consumerGroupHeartbeat} and
 * {@link GroupCoordinator#describeConsumerGroup} and back.
 *
 * <p>What only the Kafka wire decides is here: topic ids become names and back through this
 * broker's metadata (owned partitions of a topic id it does not know are left out, as are assigned
 * partitions of a topic it no longer knows); a v1 heartbeat must carry a member id the client made
 * up (KIP-1082: INVALID_REQUEST otherwise), while v0 may leave it empty for the coordinator to
 * choose; SubscribedTopicRegex exists from v1 on.
 *
 * <p>Authorization as Kafka's: a heartbeat needs READ on the group and DESCRIBE on every topic it
 * names in its subscription (topics a regex resolves to are not filtered by ACLs); a describe
 * needs DESCRIBE on the group and on every topic its members subscribe to or are assigned.
 *
 * <p>Stateless; called on a connection's event loop. Answers come once the coordinator's records
 * are committed.
 */
final class ConsumerGroupHandler {
    private final BrokerApi api;
    private final GroupCoordinator coordinator;
    private final KafkaAuthorization authz;

    ConsumerGroupHandler(BrokerApi api, GroupCoordinator coordinator, KafkaAuthorization authz) {
        this.api = api;
        this.coordinator = coordinator;
        this.authz = authz;
    }

    CompletableFuture<KafkaResponse> heartbeat(KafkaRequest request) {
        ConsumerGroupHeartbeatRequestData req = (ConsumerGroupHeartbeatRequestData) request.body();
        if (request.apiVersion() >= 1 && req.memberId().isEmpty()) {
            return CompletableFuture.completedFuture(KafkaResponse.send(heartbeatResponse(null, ApiError.of(ErrorCode.INVALID_REQUEST, "MemberId is empty: from"
                            + " ConsumerGroupHeartbeat v1 on the client makes up its member id"), req.memberId())));
        }
        if (!authz.rules().mayUseGroup(caller(request), req.groupId())) {
            return CompletableFuture.completedFuture(KafkaResponse.send(heartbeatResponse(null,
                    KafkaAuthorization.groupDenied(request, AclOperation.READ, req.groupId()), req.memberId())));
        }
        if (req.subscribedTopicNames() != null) {
            List<String> denied = req.subscribedTopicNames().stream()
                    .filter(t -> !authz.rules().mayDescribeTopic(caller(request), t)).sorted().toList();
            if (!denied.isEmpty()) {
                return CompletableFuture.completedFuture(KafkaResponse.send(heartbeatResponse(null, ApiError.of(
                        ErrorCode.TOPIC_AUTHORIZATION_FAILED, "%s may not DESCRIBE the subscribed topic(s) %s",
                        request.principal(), denied), req.memberId())));
            }
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
            each.add(authz.rules().mayDescribeGroup(caller(request), groupId)
                    ? coordinator.describeConsumerGroup(groupId) : null);
        }
        CompletableFuture<Void> all = CompletableFuture.allOf(each.stream().filter(f -> f != null)
                .toArray(CompletableFuture[]::new));
        return request.onLoop(all, done -> {
            MetadataImage image = api.image();
            ConsumerGroupDescribeResponseData out = new ConsumerGroupDescribeResponseData();
            for (int i = 0; i < each.size(); i++) {
                String groupId = req.groupIds().get(i);
                if (each.get(i) == null) {
                    ApiError denied = KafkaAuthorization.groupDenied(request, AclOperation.DESCRIBE, groupId);
                    out.groups().add(new ConsumerGroupDescribeResponseData.DescribedGroup().setGroupId(groupId)
                            .setErrorCode(KafkaErrors.code(denied)).setErrorMessage(KafkaErrors.message(denied)));
                    continue;
                }
                ConsumerGroupDescription g = each.get(i).join();
                List<String> hidden = topicsNotDescribable(request, g);
                if (!hidden.isEmpty()) {
                    // As Kafka: a group whose members read topics the caller may not describe is not shown.
                    ApiError denied = ApiError.of(ErrorCode.TOPIC_AUTHORIZATION_FAILED, "%s may not DESCRIBE the"
                            + " topic(s) %s of group '%s'", request.principal(), hidden, groupId);
                    out.groups().add(new ConsumerGroupDescribeResponseData.DescribedGroup().setGroupId(groupId)
                            .setErrorCode(KafkaErrors.code(denied)).setErrorMessage(KafkaErrors.message(denied)));
                    continue;
                }
                ConsumerGroupDescribeResponseData.DescribedGroup described = describedGroup(g, image);
                if (req.includeAuthorizedOperations() && g.error().isSuccess()) {
                    described.setAuthorizedOperations(authz.authorizedOperations(request, ResourceType.GROUP, groupId,
                            KafkaClusterView.GROUP_OPERATIONS));
                }
                out.groups().add(described);
            }
            return KafkaResponse.send(out);
        });
    }

    /** The topics the group's members subscribe to or are assigned that the principal may not DESCRIBE. */
    private List<String> topicsNotDescribable(KafkaRequest request, ConsumerGroupDescription g) {
        Set<String> topics = new TreeSet<>();
        for (ConsumerGroupDescription.Member m : g.members()) {
            topics.addAll(m.subscribedTopicNames());
            topics.addAll(m.assignment().keySet());
            topics.addAll(m.targetAssignment().keySet());
        }
        return topics.stream().filter(t -> !authz.rules().mayDescribeTopic(caller(request), t)).toList();
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
