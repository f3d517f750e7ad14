package io.raftmq.broker.group;

import io.raftmq.common.ApiError;
import io.raftmq.protocol.common.ErrorCode;

/**
 * The rule every group id the coordinator takes must meet, whichever API and protocol it comes
 * by: not empty (Kafka's rule) and at most {@link #MAX_LENGTH} characters (ours: a group id is a
 * key of every record of its group in __consumer_offsets and is logged with every state change).
 * Stateless.
 */
public final class GroupIds {
    /** The longest group id accepted, in characters. */
    public static final int MAX_LENGTH = 255;

    private GroupIds() {}

    /** NONE, or INVALID_GROUP_ID naming what is wrong with {@code groupId}. */
    public static ApiError check(String groupId) {
        if (groupId == null || groupId.isEmpty()) {
            return ApiError.of(ErrorCode.INVALID_GROUP_ID, "the group id is empty");
        }
        if (groupId.length() > MAX_LENGTH) {
            return ApiError.of(ErrorCode.INVALID_GROUP_ID, "the group id is %d characters long, longer than the %d"
                    + " allowed: '%s...'", groupId.length(), MAX_LENGTH, groupId.substring(0, 32));
        }
        return ApiError.NONE;
    }
}
