package io.raftmq.metadata.image;

import io.raftmq.protocol.controller.AclFilter;
import io.raftmq.protocol.metadata.AclEntry;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;

/**
 * ACLs between their wire form ({@link AclEntry}, Kafka's codes) and Kafka's {@link AclBinding}.
 * Stateless.
 */
public final class Acls {
    private Acls() {}

    /**
     * The binding {@code entry} describes; a code Kafka does not know becomes UNKNOWN.
     *
     * @throws IllegalArgumentException when the operation or permission is ANY, which a binding
     *     cannot hold (Kafka's AccessControlEntry refuses it)
     */
    public static AclBinding toBinding(AclEntry entry) {
        return new AclBinding(
                new ResourcePattern(ResourceType.fromCode((byte) entry.getResourceType()), entry.getResourceName(),
                        PatternType.fromCode((byte) entry.getPatternType())),
                new AccessControlEntry(entry.getPrincipal(), entry.getHost(),
                        AclOperation.fromCode((byte) entry.getOperation()),
                        AclPermissionType.fromCode((byte) entry.getPermissionType())));
    }

    public static AclEntry toEntry(AclBinding binding) {
        return AclEntry.newBuilder()
                .setResourceType(binding.pattern().resourceType().code())
                .setResourceName(binding.pattern().name())
                .setPatternType(binding.pattern().patternType().code())
                .setPrincipal(binding.entry().principal())
                .setHost(binding.entry().host())
                .setOperation(binding.entry().operation().code())
                .setPermissionType(binding.entry().permissionType().code())
                .build();
    }

    /** The filter {@code filter} describes (absent strings match everything; unknown codes become UNKNOWN). */
    public static AclBindingFilter toFilter(AclFilter filter) {
        return new AclBindingFilter(
                new ResourcePatternFilter(ResourceType.fromCode((byte) filter.getResourceType()),
                        filter.hasResourceName() ? filter.getResourceName() : null,
                        PatternType.fromCode((byte) filter.getPatternType())),
                new AccessControlEntryFilter(filter.hasPrincipal() ? filter.getPrincipal() : null,
                        filter.hasHost() ? filter.getHost() : null,
                        AclOperation.fromCode((byte) filter.getOperation()),
                        AclPermissionType.fromCode((byte) filter.getPermissionType())));
    }

    public static AclFilter toProto(AclBindingFilter filter) {
        AclFilter.Builder out = AclFilter.newBuilder()
                .setResourceType(filter.patternFilter().resourceType().code())
                .setPatternType(filter.patternFilter().patternType().code())
                .setOperation(filter.entryFilter().operation().code())
                .setPermissionType(filter.entryFilter().permissionType().code());
        if (filter.patternFilter().name() != null) {
            out.setResourceName(filter.patternFilter().name());
        }
        if (filter.entryFilter().principal() != null) {
            out.setPrincipal(filter.entryFilter().principal());
        }
        if (filter.entryFilter().host() != null) {
            out.setHost(filter.entryFilter().host());
        }
        return out.build();
    }

    /** The ACLs of {@code acls} that {@code filter} matches (Kafka's AclBindingFilter.matches), in a stable order. */
    public static List<AclBinding> matching(AclsImage acls, AclBindingFilter filter) {
        List<AclBinding> out = new ArrayList<>();
        for (var acl : acls.sorted()) {
            if (filter.matches(acl.getValue())) {
                out.add(acl.getValue());
            }
        }
        return out;
    }
}
