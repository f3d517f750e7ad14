package io.raftmq.metadata.controller;

import io.raftmq.common.ApiError;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.ElectLeadersRequest;
import io.raftmq.protocol.controller.ElectLeadersRequest.ElectionType;
import io.raftmq.protocol.controller.ElectLeadersResponse;
import io.raftmq.protocol.controller.ElectionResult;
import io.raftmq.protocol.controller.ElectionTopic;
import io.raftmq.protocol.metadata.MetadataRecord;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * ElectLeaders (Kafka's API 43, kafka-leader-election): leader elections an administrator asks
 * for, as a pure function of the image. Kafka's rules (ReplicationControlManager.electLeader):
 *
 * <ul>
 *   <li>PREFERRED: the preferred replica is the first in replica order. If it leads already:
 *       ELECTION_NOT_NEEDED. If it is not in the ISR, or not eligible (fenced, shutting down, not
 *       registered): PREFERRED_LEADER_NOT_AVAILABLE. Otherwise it leads; the ISR is unchanged.
 *   <li>UNCLEAN: a partition that has a leader: ELECTION_NOT_NEEDED. Otherwise the first replica (in
 *       replica order) that is in the ISR and eligible leads, ISR unchanged; failing that, the first
 *       eligible replica leads and the ISR becomes it alone (its log is the truth: records only the
 *       old ISR had are lost), whatever the topic's {@code unclean.leader.election.enable}; with no
 *       eligible replica: ELIGIBLE_LEADERS_NOT_AVAILABLE.
 * </ul>
 *
 * <p>Every election changes the leader, so the leader epoch goes up by one (replay does that). All
 * records of one request are one batch, committed atomically. A request without topics means every
 * partition of every topic; then ELECTION_NOT_NEEDED results are left out, as Kafka does. Such a
 * batch holds at most one record per partition of the cluster, as the batch that fences a broker
 * may.
 */
final class ElectionDecisions {
    private ElectionDecisions() {}

    static ControllerResult<ElectLeadersResponse> electLeaders(MetadataImage image, ElectLeadersRequest request) {
        ElectionType type = request.getElectionType();
        if (type != ElectionType.PREFERRED && type != ElectionType.UNCLEAN) {
            return ControllerResult.withoutRecords(ElectLeadersResponse.newBuilder().setError(ApiError.of(
                    ErrorCode.INVALID_REQUEST, "election type %s is not PREFERRED or UNCLEAN",
                    request.getElectionTypeValue() == 0 ? "(none)" : request.getElectionTypeValue()).toProto())
                    .build());
        }
        List<MetadataRecord> records = new ArrayList<>();
        ElectLeadersResponse.Builder reply = ElectLeadersResponse.newBuilder().setError(ApiError.NONE.toProto());
        if (request.getTopicsCount() == 0) {
            for (TopicImage topic : image.topicsSorted()) {
                for (int id = 0; id < topic.numPartitions(); id++) {
                    ApiError error = elect(image, type, topic, id, records);
                    if (error.code() != ErrorCode.ELECTION_NOT_NEEDED) {
                        reply.addResults(result(topic.name(), id, error));
                    }
                }
            }
            return ControllerResult.of(records, reply.build());
        }
        Set<String> seen = new HashSet<>();
        for (ElectionTopic wanted : request.getTopicsList()) {
            TopicImage topic = image.topic(wanted.getTopic());
            for (int id : wanted.getPartitionIdsList()) {
                String name = wanted.getTopic() + "-" + id;
                ApiError error;
                if (!seen.add(wanted.getTopic() + "\u0000" + id)) {
                    error = ApiError.of(ErrorCode.INVALID_REQUEST, "partition %s appears more than once in the"
                            + " request", name);
                } else if (topic == null) {
                    error = ApiError.of(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "topic '%s' does not exist",
                            wanted.getTopic());
                } else if (topic.partition(id) == null) {
                    error = ApiError.of(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "topic '%s' has no partition %d (it"
                            + " has %d)", topic.name(), id, topic.numPartitions());
                } else {
                    error = elect(image, type, topic, id, records);
                }
                reply.addResults(result(wanted.getTopic(), id, error));
            }
        }
        return ControllerResult.of(records, reply.build());
    }

    /** Decides one partition's election; adds its record when a leader changes. */
    private static ApiError elect(MetadataImage image, ElectionType type, TopicImage topic, int id,
            List<MetadataRecord> records) {
        PartitionRegistration p = topic.partition(id);
        String name = topic.name() + "-" + id;
        if (type == ElectionType.PREFERRED) {
            int preferred = p.replicas().get(0);
            if (p.leader() == preferred) {
                return ApiError.of(ErrorCode.ELECTION_NOT_NEEDED, "partition %s is already led by its preferred"
                        + " replica, broker %d", name, preferred);
            }
            if (!p.isInIsr(preferred)) {
                return ApiError.of(ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, "the preferred replica of %s, broker"
                        + " %d, is not in its ISR %s (leader: %s)", name, preferred, p.isr(), leaderName(p));
            }
            if (!image.isEligible(preferred)) {
                return ApiError.of(ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, "the preferred replica of %s, broker"
                        + " %d, is %s (leader: %s)", name, preferred, BrokerDecisions.describeState(image, preferred),
                        leaderName(p));
            }
            records.add(Records.partitionChange(topic.id(), id, preferred, null));
            return ApiError.NONE;
        }
        if (p.hasLeader()) {
            return ApiError.of(ErrorCode.ELECTION_NOT_NEEDED, "partition %s has a leader, broker %d", name,
                    p.leader());
        }
        for (int replica : p.replicas()) {
            if (p.isInIsr(replica) && image.isEligible(replica)) {
                records.add(Records.partitionChange(topic.id(), id, replica, null));
                return ApiError.NONE;
            }
        }
        for (int replica : p.replicas()) {
            if (image.isEligible(replica)) {
                records.add(Records.partitionChange(topic.id(), id, replica, List.of(replica)));
                return ApiError.NONE;
            }
        }
        List<String> states = new ArrayList<>();
        for (int replica : p.replicas()) {
            states.add("broker " + replica + " is " + BrokerDecisions.describeState(image, replica));
        }
        return ApiError.of(ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, "no replica of %s can lead: %s", name,
                String.join(", ", states));
    }

    private static ElectionResult result(String topic, int partitionId, ApiError error) {
        return ElectionResult.newBuilder().setTopic(topic).setPartitionId(partitionId).setError(error.toProto())
                .build();
    }

    private static String leaderName(PartitionRegistration p) {
        return p.hasLeader() ? "broker " + p.leader() : "none";
    }
}
