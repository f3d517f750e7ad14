package io.raftmq.broker.group;

import io.raftmq.protocol.group.ConsumerCurrentValue;
import io.raftmq.protocol.group.ConsumerMemberValue;
import java.util.List;
import java.util.SortedMap;
import java.util.SortedSet;

/**
 * One member of a consumer-protocol (KIP-848) group, immutable: what it subscribes to and how far
 * it has reconciled towards its target assignment. Its reconciliation state:
 *
 * <pre>
 *   STABLE                 --target moved, some owned partition not in it--> UNREVOKED_PARTITIONS
 *   STABLE                 --target moved, a new partition still owned by another--> UNRELEASED_PARTITIONS
 *   UNREVOKED_PARTITIONS   --member reports it no longer owns them--> STABLE | UNRELEASED_PARTITIONS
 *   UNREVOKED_PARTITIONS   --rebalance timeout over--> fenced (removed)
 *   UNRELEASED_PARTITIONS  --their owners revoked them--> STABLE
 * </pre>
 *
 * Strings are empty where the client gave none. Epoch -2 marks a static member that left and may
 * come back (its partitions stay with it until its session expires).
 *
 * @param assigned partitions the member may consume
 * @param pendingRevocation partitions the member was told to give up and still owns
 */
record ConsumerProtocolMember(String memberId, String instanceId, String rackId, String clientId, String clientHost,
        List<String> subscribedTopicNames, String subscribedTopicRegex, int rebalanceTimeoutMs, String serverAssignor,
        int memberEpoch, int previousMemberEpoch, State state, SortedMap<String, SortedSet<Integer>> assigned,
        SortedMap<String, SortedSet<Integer>> pendingRevocation) {

    /** Epoch of a static member that left with epoch -2 and may rejoin under its instance id. */
    static final int STATIC_LEFT_EPOCH = -2;

    enum State { STABLE, UNREVOKED_PARTITIONS, UNRELEASED_PARTITIONS }

    ConsumerProtocolMember {
        subscribedTopicNames = subscribedTopicNames.stream().distinct().sorted().toList();
        assigned = TopicPartitionSets.copyOf(assigned);
        pendingRevocation = TopicPartitionSets.copyOf(pendingRevocation);
    }

    /** A member that has joined and owns nothing yet. */
    static ConsumerProtocolMember newMember(String memberId) {
        return new ConsumerProtocolMember(memberId, "", "", "", "", List.of(), "", 0, "", 0, 0, State.STABLE,
                TopicPartitionSets.EMPTY, TopicPartitionSets.EMPTY);
    }

    boolean isStatic() {
        return !instanceId.isEmpty();
    }

    /** Whether subscribed topics, regex or assignor differ (these change the target assignment). */
    boolean subscriptionDiffers(ConsumerProtocolMember other) {
        return !subscribedTopicNames.equals(other.subscribedTopicNames)
                || !subscribedTopicRegex.equals(other.subscribedTopicRegex)
                || !serverAssignor.equals(other.serverAssignor) || !rackId.equals(other.rackId);
    }

    boolean metadataDiffers(ConsumerProtocolMember other) {
        return !toMemberValue().equals(other.toMemberValue());
    }

    ConsumerProtocolMember withMetadata(ConsumerMemberValue v) {
        return new ConsumerProtocolMember(memberId, v.getInstanceId(), v.getRackId(), v.getClientId(),
                v.getClientHost(), v.getSubscribedTopicNamesList(), v.getSubscribedTopicRegex(),
                v.getRebalanceTimeoutMs(), v.getServerAssignor(), memberEpoch, previousMemberEpoch, state, assigned,
                pendingRevocation);
    }

    ConsumerProtocolMember withMemberId(String newMemberId) {
        return new ConsumerProtocolMember(newMemberId, instanceId, rackId, clientId, clientHost, subscribedTopicNames,
                subscribedTopicRegex, rebalanceTimeoutMs, serverAssignor, memberEpoch, previousMemberEpoch, state,
                assigned, pendingRevocation);
    }

    /** The reconciliation part replaced; the previous epoch becomes this member's epoch if it changes. */
    ConsumerProtocolMember withAssignment(int newEpoch, State newState,
            SortedMap<String, SortedSet<Integer>> newAssigned, SortedMap<String, SortedSet<Integer>> newRevoking) {
        int previous = newEpoch != memberEpoch ? memberEpoch : previousMemberEpoch;
        return new ConsumerProtocolMember(memberId, instanceId, rackId, clientId, clientHost, subscribedTopicNames,
                subscribedTopicRegex, rebalanceTimeoutMs, serverAssignor, newEpoch, previous, newState, newAssigned,
                newRevoking);
    }

    ConsumerProtocolMember withCurrent(ConsumerCurrentValue v) {
        return new ConsumerProtocolMember(memberId, instanceId, rackId, clientId, clientHost, subscribedTopicNames,
                subscribedTopicRegex, rebalanceTimeoutMs, serverAssignor, v.getMemberEpoch(),
                v.getPreviousMemberEpoch(), v.getState().isEmpty() ? State.STABLE : State.valueOf(v.getState()),
                TopicPartitionSets.fromProto(v.getAssignedList()),
                TopicPartitionSets.fromProto(v.getPendingRevocationList()));
    }

    ConsumerMemberValue toMemberValue() {
        return ConsumerMemberValue.newBuilder()
                .setInstanceId(instanceId)
                .setRackId(rackId)
                .setClientId(clientId)
                .setClientHost(clientHost)
                .addAllSubscribedTopicNames(subscribedTopicNames)
                .setSubscribedTopicRegex(subscribedTopicRegex)
                .setRebalanceTimeoutMs(rebalanceTimeoutMs)
                .setServerAssignor(serverAssignor)
                .build();
    }

    ConsumerCurrentValue toCurrentValue() {
        return ConsumerCurrentValue.newBuilder()
                .setMemberEpoch(memberEpoch)
                .setPreviousMemberEpoch(previousMemberEpoch)
                .setState(state.name())
                .addAllAssigned(TopicPartitionSets.toProto(assigned))
                .addAllPendingRevocation(TopicPartitionSets.toProto(pendingRevocation))
                .build();
    }
}
