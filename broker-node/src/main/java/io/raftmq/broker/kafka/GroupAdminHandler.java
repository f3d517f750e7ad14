package io.raftmq.broker.kafka;

import static io.raftmq.broker.kafka.KafkaAuthorization.caller;

import io.raftmq.broker.Authorization;
import io.raftmq.broker.group.GroupCoordinator;
import io.raftmq.common.ApiError;
import io.raftmq.protocol.broker.DeleteGroupsRequest;
import io.raftmq.protocol.broker.DeleteGroupsResponse;
import io.raftmq.protocol.broker.DeletedGroup;
import io.raftmq.protocol.broker.ListGroupsRequest;
import io.raftmq.protocol.broker.ListedGroup;
import io.raftmq.protocol.broker.OffsetDeletePartitionResponse;
import io.raftmq.protocol.broker.OffsetDeleteRequest;
import io.raftmq.protocol.broker.OffsetDeleteTopic;
import io.raftmq.protocol.broker.OffsetDeleteTopicResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DeleteGroupsResponseData;
import org.apache.kafka.common.message.DeleteGroupsResponseData.DeletableGroupResult;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListGroupsResponseData;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetDeleteRequestData.OffsetDeleteRequestPartition;
import org.apache.kafka.common.message.OffsetDeleteRequestData.OffsetDeleteRequestTopic;
import org.apache.kafka.common.message.OffsetDeleteResponseData;
import org.apache.kafka.common.message.OffsetDeleteResponseData.OffsetDeleteResponsePartition;
import org.apache.kafka.common.message.OffsetDeleteResponseData.OffsetDeleteResponseTopic;
import org.apache.kafka.common.protocol.Errors;

/**
 * The group administration APIs: OffsetDelete (v0), ListGroups (v0-5) and DeleteGroups (v0-3),
 * translated to the protocol-neutral calls of this broker's {@link GroupCoordinator} and back.
 *
 * <p>Authorization as Kafka's KafkaApis: OffsetDelete needs DELETE on the group (else
 * GROUP_AUTHORIZATION_FAILED and nothing is deleted) and READ on each topic (else
 * TOPIC_AUTHORIZATION_FAILED for its partitions, not deleted); ListGroups lists every group to who
 * may DESCRIBE the cluster, else the groups one may DESCRIBE; DeleteGroups needs DELETE on each
 * group.
 *
 * <p>Stateless; called on connection event loops, never blocks: answers are built on the
 * connection's loop when the coordinator completes ({@link KafkaRequest#onLoop}).
 */
final class GroupAdminHandler {
    private final GroupCoordinator groups;
    private final KafkaAuthorization authz;

    GroupAdminHandler(GroupCoordinator groups, KafkaAuthorization authz) {
        this.groups = groups;
        this.authz = authz;
    }

    // ---- OffsetDelete ----

    CompletableFuture<KafkaResponse> offsetDelete(KafkaRequest request) {
        OffsetDeleteRequestData data = (OffsetDeleteRequestData) request.body();
        if (!authz.rules().mayDeleteGroup(caller(request), data.groupId())) {
            return CompletableFuture.completedFuture(KafkaResponse.send(new OffsetDeleteResponseData()
                    .setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code())));
        }
        OffsetDeleteRequest.Builder delete = OffsetDeleteRequest.newBuilder().setGroupId(data.groupId());
        List<OffsetDeleteRequestTopic> unreadable = new ArrayList<>();
        for (OffsetDeleteRequestTopic t : data.topics()) {
            if (!authz.rules().mayCommitOffset(caller(request), t.name())) {
                unreadable.add(t);
                continue;
            }
            OffsetDeleteTopic.Builder topic = OffsetDeleteTopic.newBuilder().setName(t.name());
            t.partitions().forEach(p -> topic.addPartitions(p.partitionIndex()));
            delete.addTopics(topic);
        }
        return request.onLoop(groups.deleteOffsets(delete.build()), answer -> {
            ApiError whole = ApiError.fromProto(answer.getError());
            OffsetDeleteResponseData response = new OffsetDeleteResponseData().setErrorCode(KafkaErrors.code(whole));
            if (whole.isFailure()) {
                return KafkaResponse.send(response);
            }
            for (OffsetDeleteRequestTopic t : unreadable) {
                OffsetDeleteResponseTopic topic = response.topics().find(t.name());
                if (topic == null) {
                    topic = new OffsetDeleteResponseTopic().setName(t.name());
                    response.topics().add(topic);
                }
                for (OffsetDeleteRequestPartition p : t.partitions()) {
                    if (topic.partitions().find(p.partitionIndex()) == null) {
                        topic.partitions().add(new OffsetDeleteResponsePartition()
                                .setPartitionIndex(p.partitionIndex())
                                .setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code()));
                    }
                }
            }
            for (OffsetDeleteTopicResponse t : answer.getTopicsList()) {
                OffsetDeleteResponseTopic topic = response.topics().find(t.getName());
                if (topic == null) {
                    topic = new OffsetDeleteResponseTopic().setName(t.getName());
                    response.topics().add(topic);
                }
                for (OffsetDeletePartitionResponse p : t.getPartitionsList()) {
                    if (topic.partitions().find(p.getPartition()) == null) {
                        topic.partitions().add(new OffsetDeleteResponsePartition().setPartitionIndex(p.getPartition())
                                .setErrorCode(KafkaErrors.code(ApiError.fromProto(p.getError()))));
                    }
                }
            }
            return KafkaResponse.send(response);
        });
    }

    // ---- ListGroups, DeleteGroups ----

    CompletableFuture<KafkaResponse> listGroups(KafkaRequest request) {
        ListGroupsRequestData data = (ListGroupsRequestData) request.body();
        short version = request.apiVersion();
        ListGroupsRequest.Builder list = ListGroupsRequest.newBuilder();
        if (version >= 4) {
            list.addAllStatesFilter(data.statesFilter());
        }
        if (version >= 5) {
            list.addAllTypesFilter(data.typesFilter());
        }
        Authorization.Caller caller = caller(request);
        return request.onLoop(groups.listGroups(list.build()), answer -> {
            ListGroupsResponseData response = new ListGroupsResponseData()
                    .setErrorCode(KafkaErrors.code(ApiError.fromProto(answer.getError())));
            for (ListedGroup g : answer.getGroupsList()) {
                if (!authz.rules().mayListGroup(caller, g.getGroupId())) {
                    continue; // as Kafka: DESCRIBE on the cluster lists all, else the groups one may describe
                }
                response.groups().add(new ListGroupsResponseData.ListedGroup().setGroupId(g.getGroupId())
                        .setProtocolType(g.getProtocolType()).setGroupState(g.getState())
                        .setGroupType(g.getGroupType()));
            }
            return KafkaResponse.send(response);
        });
    }

    CompletableFuture<KafkaResponse> deleteGroups(KafkaRequest request) {
        DeleteGroupsRequestData data = (DeleteGroupsRequestData) request.body();
        short version = request.apiVersion();
        // Results are keyed by group id: a group named twice is deleted and answered once.
        List<String> groupIds = List.copyOf(new LinkedHashSet<>(data.groupsNames()));
        Map<String, ApiError> denied = new HashMap<>();
        for (String groupId : groupIds) {
            if (!authz.rules().mayDeleteGroup(caller(request), groupId)) {
                denied.put(groupId, KafkaAuthorization.groupDenied(request, AclOperation.DELETE, groupId));
            }
        }
        List<String> deletable = groupIds.stream().filter(g -> !denied.containsKey(g)).toList();
        CompletableFuture<DeleteGroupsResponse> deleted = deletable.isEmpty()
                ? CompletableFuture.completedFuture(DeleteGroupsResponse.newBuilder()
                        .setError(ApiError.NONE.toProto()).build())
                : groups.deleteGroups(DeleteGroupsRequest.newBuilder().addAllGroupIds(deletable).build());
        return request.onLoop(deleted,
                answer -> {
                    ApiError whole = ApiError.fromProto(answer.getError());
                    Map<String, ApiError> byGroup = new HashMap<>(denied);
                    for (DeletedGroup g : answer.getGroupsList()) {
                        byGroup.put(g.getGroupId(), ApiError.fromProto(g.getError()));
                    }
                    DeleteGroupsResponseData response = new DeleteGroupsResponseData();
                    for (String groupId : groupIds) {
                        ApiError error = byGroup.getOrDefault(groupId, whole);
                        response.results().add(new DeletableGroupResult().setGroupId(groupId)
                                .setErrorCode(KafkaErrors.code(error))
                                .setErrorMessage(version >= 3 ? KafkaErrors.message(error) : null));
                    }
                    return KafkaResponse.send(response);
                });
    }
}
