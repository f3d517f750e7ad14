package io.raftmq.broker.group;

import com.google.protobuf.InvalidProtocolBufferException;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.group.GroupMetadataKey;
import io.raftmq.protocol.group.GroupMetadataValue;
import io.raftmq.protocol.group.GroupRecordKey;
import io.raftmq.protocol.group.OffsetCommitKey;
import io.raftmq.protocol.group.OffsetCommitValue;
import io.raftmq.protocol.record.Record;

/**
 * One record of __consumer_offsets, decoded ({@code group_records.proto}): an upsert of a group's
 * metadata or of one committed offset; a null value is a tombstone. Immutable.
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
