package io.raftmq.metadata.controller;

import io.raftmq.common.ApiError;
import io.raftmq.protocol.common.ErrorCode;

/**
 * Kafka's topic naming rules: ASCII letters, digits, '.', '_' and '-'; at most 249 characters;
 * not "." or "..". Names that differ only by '.' versus '_' collide (they map to the same metric
 * names), so the second one is refused. And which topics are internal: written only by the
 * cluster itself, never deleted, altered or produced to by clients.
 */
public final class TopicNames {
    public static final int MAX_LENGTH = 249;
    /** The group coordinator's topic (Kafka's name, so that tools that know it find it). */
    public static final String OFFSETS_TOPIC = "__consumer_offsets";

    private TopicNames() {}

    /** {@link ApiError#NONE}, or INVALID_TOPIC with a message naming the problem. */
    public static ApiError validate(String name) {
        if (name == null || name.isEmpty()) {
            return ApiError.of(ErrorCode.INVALID_TOPIC, "topic name is empty");
        }
        if (name.equals(".") || name.equals("..")) {
            return ApiError.of(ErrorCode.INVALID_TOPIC, "topic name '%s' is not allowed", name);
        }
        if (name.length() > MAX_LENGTH) {
            return ApiError.of(ErrorCode.INVALID_TOPIC, "topic name '%s...' has %d characters; at most %d are allowed",
                    name.substring(0, 20), name.length(), MAX_LENGTH);
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean legal = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '_' || c == '-';
            if (!legal) {
                return ApiError.of(ErrorCode.INVALID_TOPIC,
                        "topic name '%s' contains the illegal character '%s' at position %d; only ASCII letters,"
                                + " digits, '.', '_' and '-' are allowed",
                        name, Character.isISOControl(c) ? String.format("\\u%04x", (int) c) : String.valueOf(c), i);
            }
        }
        return ApiError.NONE;
    }

    /** The name with '.' replaced by '_': two topics with the same collision key may not coexist. */
    public static String collisionKey(String name) {
        return name.replace('.', '_');
    }

    /**
     * Whether {@code name} is an internal topic: {@value #OFFSETS_TOPIC}, the one raftmq has
     * (Kafka's {@code __transaction_state} and {@code __share_group_state} are not used here).
     */
    public static boolean isInternal(String name) {
        return OFFSETS_TOPIC.equals(name);
    }
}
