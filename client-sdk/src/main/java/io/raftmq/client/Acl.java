package io.raftmq.client;

import java.util.Locale;

/**
 * One ACL, Kafka's model: who ({@code principal} "User:alice" or "User:*", from {@code host} an IP
 * or "*") may or may not ({@code permission}) do {@code operation} on resources of {@code
 * resourceType} named {@code resourceName} (LITERAL: that name, or every name for "*"; PREFIXED:
 * every name starting with it). Immutable.
 */
public record Acl(ResourceType resourceType, String resourceName, PatternType patternType, String principal,
        String host, Operation operation, Permission permission) {

    /** Resource types, with Kafka's codes. */
    public enum ResourceType implements Coded {
        TOPIC(2), GROUP(3), CLUSTER(4), TRANSACTIONAL_ID(5);

        final int code;

        ResourceType(int code) {
            this.code = code;
        }

        @Override
        public int code() {
            return code;
        }
    }

    /** How a resource name matches (MATCH: in filters only, every ACL that applies to the name). */
    public enum PatternType implements Coded {
        MATCH(2), LITERAL(3), PREFIXED(4);

        final int code;

        PatternType(int code) {
            this.code = code;
        }

        @Override
        public int code() {
            return code;
        }
    }

    /** Operations, with Kafka's codes. */
    public enum Operation implements Coded {
        ALL(2), READ(3), WRITE(4), CREATE(5), DELETE(6), ALTER(7), DESCRIBE(8), CLUSTER_ACTION(9),
        DESCRIBE_CONFIGS(10), ALTER_CONFIGS(11), IDEMPOTENT_WRITE(12);

        final int code;

        Operation(int code) {
            this.code = code;
        }

        @Override
        public int code() {
            return code;
        }
    }

    public enum Permission implements Coded {
        DENY(2), ALLOW(3);

        final int code;

        Permission(int code) {
            this.code = code;
        }

        @Override
        public int code() {
            return code;
        }
    }

    /** An enum constant with Kafka's code for it. */
    interface Coded {
        int code();
    }

    /** Kafka's code for "any value" in a filter. */
    static final int ANY = 1;

    /**
     * Which ACLs a listing or a removal is about: each null field matches every value.
     */
    public record Filter(ResourceType resourceType, String resourceName, PatternType patternType, String principal,
            String host, Operation operation, Permission permission) {
        /** Every ACL. */
        public static final Filter ALL = new Filter(null, null, null, null, null, null, null);
    }

    /** The enum constant of {@code type} with this code, or null when the code is not one here. */
    static <E extends Enum<E> & Coded> E fromCode(Class<E> type, int code) {
        for (E e : type.getEnumConstants()) {
            if (e.code() == code) {
                return e;
            }
        }
        return null;
    }

    /** The name a user types ("transactional-id", "describe-configs"), for messages. */
    static String display(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
