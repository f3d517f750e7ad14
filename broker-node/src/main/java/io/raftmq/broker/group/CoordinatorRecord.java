package io.raftmq.broker.group;

import com.google.protobuf.InvalidProtocolBufferException;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.group.ConsumerCurrentValue;
import io.raftmq.protocol.group.ConsumerGroupKey;
import io.raftmq.protocol.group.ConsumerGroupValue;
import io.raftmq.protocol.group.ConsumerMemberKey;
import io.raftmq.protocol.group.ConsumerMemberValue;
import io.raftmq.protocol.group.ConsumerTargetEpochValue;
import io.raftmq.protocol.group.ConsumerTargetValue;
import io.raftmq.protocol.group.GroupMetadataKey;
import io.raftmq.protocol.group.GroupMetadataValue;
import io.raftmq.protocol.group.GroupRecordKey;
import io.raftmq.protocol.group.OffsetCommitKey;
import io.raftmq.protocol.group.OffsetCommitValue;
import io.raftmq.protocol.record.Record;

/**
 * One record of __consumer_offsets, decoded ({@code group_records.proto}): an upsert of a group's
 * metadata or of one committed offset, or of one part of a consumer-protocol group (its epoch, a
 * member's subscription, the target assignment's epoch, a member's target, a member's current
 * assignment); a null value is a tombstone. Immutable.
 */
sealed interface CoordinatorRecord {

    String groupId();

    /** The key's bytes: records with equal keys supersede each other. */
    byte[] keyBytes();

    /** The value's bytes, or null for a tombstone. */
    byte[] valueBytes();

    /** @param value null: the group is deleted */
    record GroupMetadata(String groupId, GroupMetadataValue value) implements CoordinatorRecord {
        @Override
        public byte[] keyBytes() {
            return GroupRecordKey.newBuilder().setGroup(GroupMetadataKey.newBuilder().setGroupId(groupId))
                    .build().toByteArray();
        }

        @Override
        public byte[] valueBytes() {
            return value == null ? null : value.toByteArray();
        }
    }

    /** @param value null: the commit is deleted */
    record OffsetCommit(String groupId, TopicPartition tp, OffsetCommitValue value) implements CoordinatorRecord {
        @Override
        public byte[] keyBytes() {
            return GroupRecordKey.newBuilder().setOffset(OffsetCommitKey.newBuilder().setGroupId(groupId)
                    .setTopic(tp.topic()).setPartition(tp.partition())).build().toByteArray();
        }

        @Override
        public byte[] valueBytes() {
            return value == null ? null : value.toByteArray();
        }
    }

    /** A record of a consumer-protocol (KIP-848) group; {@link ConsumerGroupHeartbeats} replays these. */
    sealed interface ConsumerProtocolRecord extends CoordinatorRecord {}

    /** @param value null: the group is deleted */
    record ConsumerGroupEpoch(String groupId, ConsumerGroupValue value) implements ConsumerProtocolRecord {
        @Override
        public byte[] keyBytes() {
            return GroupRecordKey.newBuilder().setConsumerGroup(groupKey(groupId)).build().toByteArray();
        }

        @Override
        public byte[] valueBytes() {
            return value == null ? null : value.toByteArray();
        }
    }

    /** @param value null: the member left or was fenced */
    record ConsumerMember(String groupId, String memberId, ConsumerMemberValue value)
            implements ConsumerProtocolRecord {
        @Override
        public byte[] keyBytes() {
            return GroupRecordKey.newBuilder().setConsumerMember(memberKey(groupId, memberId)).build().toByteArray();
        }

        @Override
        public byte[] valueBytes() {
            return value == null ? null : value.toByteArray();
        }
    }

    /** @param value null: the group is deleted */
    record ConsumerTargetEpoch(String groupId, ConsumerTargetEpochValue value) implements ConsumerProtocolRecord {
        @Override
        public byte[] keyBytes() {
            return GroupRecordKey.newBuilder().setConsumerTargetEpoch(groupKey(groupId)).build().toByteArray();
        }

        @Override
        public byte[] valueBytes() {
            return value == null ? null : value.toByteArray();
        }
    }

    /** @param value null: the member is gone */
    record ConsumerTarget(String groupId, String memberId, ConsumerTargetValue value)
            implements ConsumerProtocolRecord {
        @Override
        public byte[] keyBytes() {
            return GroupRecordKey.newBuilder().setConsumerTarget(memberKey(groupId, memberId)).build().toByteArray();
        }

        @Override
        public byte[] valueBytes() {
            return value == null ? null : value.toByteArray();
        }
    }

    /** @param value null: the member is gone */
    record ConsumerCurrent(String groupId, String memberId, ConsumerCurrentValue value)
            implements ConsumerProtocolRecord {
        @Override
        public byte[] keyBytes() {
            return GroupRecordKey.newBuilder().setConsumerCurrent(memberKey(groupId, memberId)).build().toByteArray();
        }

        @Override
        public byte[] valueBytes() {
            return value == null ? null : value.toByteArray();
        }
    }

    private static ConsumerGroupKey groupKey(String groupId) {
        return ConsumerGroupKey.newBuilder().setGroupId(groupId).build();
    }

    private static ConsumerMemberKey memberKey(String groupId, String memberId) {
        return ConsumerMemberKey.newBuilder().setGroupId(groupId).setMemberId(memberId).build();
    }

    /** Decodes a stored record; throws {@link IllegalArgumentException} naming the offset when it is not one of ours. */
    static CoordinatorRecord decode(Record record) {
        byte[] key = record.keyBytes();
        byte[] value = record.valueBytes();
        if (key == null) {
            throw new IllegalArgumentException("record at offset " + record.offset() + " has no key");
        }
        try {
            GroupRecordKey k = GroupRecordKey.parseFrom(key);
            switch (k.getKindCase()) {
                case GROUP:
                    return new GroupMetadata(k.getGroup().getGroupId(),
                            value == null ? null : GroupMetadataValue.parseFrom(value));
                case OFFSET:
                    OffsetCommitKey o = k.getOffset();
                    return new OffsetCommit(o.getGroupId(), new TopicPartition(o.getTopic(), o.getPartition()),
                            value == null ? null : OffsetCommitValue.parseFrom(value));
                case CONSUMER_GROUP:
                    return new ConsumerGroupEpoch(k.getConsumerGroup().getGroupId(),
                            value == null ? null : ConsumerGroupValue.parseFrom(value));
                case CONSUMER_MEMBER:
                    return new ConsumerMember(k.getConsumerMember().getGroupId(), k.getConsumerMember().getMemberId(),
                            value == null ? null : ConsumerMemberValue.parseFrom(value));
                case CONSUMER_TARGET_EPOCH:
                    return new ConsumerTargetEpoch(k.getConsumerTargetEpoch().getGroupId(),
                            value == null ? null : ConsumerTargetEpochValue.parseFrom(value));
                case CONSUMER_TARGET:
                    return new ConsumerTarget(k.getConsumerTarget().getGroupId(), k.getConsumerTarget().getMemberId(),
                            value == null ? null : ConsumerTargetValue.parseFrom(value));
                case CONSUMER_CURRENT:
                    return new ConsumerCurrent(k.getConsumerCurrent().getGroupId(),
                            k.getConsumerCurrent().getMemberId(),
                            value == null ? null : ConsumerCurrentValue.parseFrom(value));
                default:
                    throw new IllegalArgumentException("record at offset " + record.offset()
                            + " has a key of no known kind");
            }
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("record at offset " + record.offset() + " does not decode: " + e
                    .getMessage(), e);
        }
    }
}
