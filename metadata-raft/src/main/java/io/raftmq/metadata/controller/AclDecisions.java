package io.raftmq.metadata.controller;

import io.raftmq.common.ApiError;
import io.raftmq.common.Uuids;
import io.raftmq.metadata.image.Acls;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.AclFilter;
import io.raftmq.protocol.controller.CreateAclsRequest;
import io.raftmq.protocol.controller.CreateAclsResponse;
import io.raftmq.protocol.controller.DeleteAclsFilterResult;
import io.raftmq.protocol.controller.DeleteAclsRequest;
import io.raftmq.protocol.controller.DeleteAclsResponse;
import io.raftmq.protocol.metadata.AccessControlEntryRecord;
import io.raftmq.protocol.metadata.AclEntry;
import io.raftmq.protocol.metadata.MetadataRecord;
import io.raftmq.protocol.metadata.RemoveAccessControlEntryRecord;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Decisions about ACLs (Kafka's CreateAcls and DeleteAcls), as pure functions of the image, the
 * request and the injected id source. Each ACL of a creation is decided on its own: a bad one gets
 * INVALID_REQUEST naming what is wrong (Kafka's checks: no UNKNOWN or ANY value, a LITERAL or
 * PREFIXED pattern, a non-empty resource name, "kafka-cluster" as the CLUSTER's name, and a
 * principal of the form "Type:name") and the others are added; an ACL equal to one that exists (or
 * to an earlier one of the request) succeeds without a record, so the same ACL is never stored
 * twice. A deletion removes every ACL each filter matches, with Kafka's filter semantics, and
 * answers each filter with the ACLs it matched.
 */
final class AclDecisions {
    /** The most ACLs one request may create (Kafka's MAX_RECORDS_PER_USER_OP). */
    static final int MAX_ACLS_PER_REQUEST = 10_000;
    /** The name of the one CLUSTER resource (Kafka's ResourcePattern CLUSTER_NAME). */
    static final String CLUSTER_NAME = "kafka-cluster";

    private final Supplier<UUID> ids;

    /** @param ids source of new ACL ids (random in production, seeded in tests) */
    AclDecisions(Supplier<UUID> ids) {
        this.ids = ids;
    }

    ControllerResult<CreateAclsResponse> createAcls(MetadataImage image, CreateAclsRequest request) {
        CreateAclsResponse.Builder reply = CreateAclsResponse.newBuilder().setError(ApiError.NONE.toProto());
        if (request.getAclsCount() > MAX_ACLS_PER_REQUEST) {
            ApiError tooMany = ApiError.of(ErrorCode.INVALID_REQUEST, "a request may create at most %d ACLs; this one"
                    + " has %d", MAX_ACLS_PER_REQUEST, request.getAclsCount());
            request.getAclsList().forEach(acl -> reply.addResults(tooMany.toProto()));
            return ControllerResult.withoutRecords(reply.build());
        }
        Set<AclBinding> existing = new HashSet<>(image.acls().byId().values());
        Set<UUID> usedIds = new HashSet<>(image.acls().byId().keySet());
        List<MetadataRecord> records = new ArrayList<>();
        for (AclEntry entry : request.getAclsList()) {
            ApiError invalid = validate(entry);
            if (invalid.isFailure()) {
                reply.addResults(invalid.toProto());
                continue;
            }
            AclBinding binding = Acls.toBinding(entry);
            if (existing.add(binding)) {
                UUID id = newId(usedIds);
                records.add(MetadataRecord.newBuilder().setAccessControlEntry(AccessControlEntryRecord.newBuilder()
                        .setId(Uuids.toProto(id))
                        .setAcl(Acls.toEntry(binding))).build());
            }
            reply.addResults(ApiError.NONE.toProto());
        }
        return ControllerResult.of(records, reply.build());
    }

    ControllerResult<DeleteAclsResponse> deleteAcls(MetadataImage image, DeleteAclsRequest request) {
        DeleteAclsResponse.Builder reply = DeleteAclsResponse.newBuilder().setError(ApiError.NONE.toProto());
        Set<UUID> removed = new LinkedHashSet<>();
        List<Map.Entry<UUID, AclBinding>> acls = image.acls().sorted();
        for (AclFilter proto : request.getFiltersList()) {
            AclBindingFilter filter = Acls.toFilter(proto);
            DeleteAclsFilterResult.Builder result = DeleteAclsFilterResult.newBuilder();
            if (filter.patternFilter().isUnknown() || filter.entryFilter().isUnknown()) {
                reply.addResults(result.setError(ApiError.of(ErrorCode.INVALID_REQUEST, "the filter %s has a value"
                        + " this broker does not know", filter).toProto()));
                continue;
            }
            for (Map.Entry<UUID, AclBinding> acl : acls) {
                if (filter.matches(acl.getValue())) {
                    removed.add(acl.getKey());
                    result.addRemoved(Acls.toEntry(acl.getValue()));
                }
            }
            reply.addResults(result.setError(ApiError.NONE.toProto()));
        }
        List<MetadataRecord> records = new ArrayList<>(removed.size());
        for (UUID id : removed) {
            records.add(MetadataRecord.newBuilder().setRemoveAccessControlEntry(
                    RemoveAccessControlEntryRecord.newBuilder().setId(Uuids.toProto(id))).build());
        }
        return ControllerResult.of(records, reply.build());
    }

    /** NONE, or INVALID_REQUEST naming what makes {@code acl} one that cannot be stored. */
    static ApiError validate(AclEntry acl) {
        ResourceType resourceType = ResourceType.fromCode((byte) acl.getResourceType());
        if (resourceType == ResourceType.UNKNOWN || resourceType == ResourceType.ANY
                || resourceType.code() != acl.getResourceType()) {
            return invalid("invalid resource type %s (code %d)", resourceType, acl.getResourceType());
        }
        PatternType patternType = PatternType.fromCode((byte) acl.getPatternType());
        if ((patternType != PatternType.LITERAL && patternType != PatternType.PREFIXED)
                || patternType.code() != acl.getPatternType()) {
            return invalid("invalid pattern type %s (code %d): an ACL's pattern is LITERAL or PREFIXED",
                    patternType, acl.getPatternType());
        }
        AclOperation operation = AclOperation.fromCode((byte) acl.getOperation());
        if (operation == AclOperation.UNKNOWN || operation == AclOperation.ANY
                || operation.code() != acl.getOperation()) {
            return invalid("invalid operation %s (code %d)", operation, acl.getOperation());
        }
        AclPermissionType permission = AclPermissionType.fromCode((byte) acl.getPermissionType());
        if ((permission != AclPermissionType.ALLOW && permission != AclPermissionType.DENY)
                || permission.code() != acl.getPermissionType()) {
            return invalid("invalid permission type %s (code %d): an ACL ALLOWs or DENYs", permission,
                    acl.getPermissionType());
        }
        if (acl.getResourceName().isEmpty()) {
            return invalid("invalid empty resource name (%s %s)", resourceType, patternType);
        }
        if (resourceType == ResourceType.CLUSTER && !acl.getResourceName().equals(CLUSTER_NAME)) {
            return invalid("the only valid name for the CLUSTER resource is %s; got '%s'", CLUSTER_NAME,
                    acl.getResourceName());
        }
        String principal = acl.getPrincipal();
        int colon = principal.indexOf(':');
        if (colon <= 0 || colon == principal.length() - 1) {
            return invalid("invalid principal '%s': expected principalType:principalName, e.g. User:alice or User:*",
                    principal);
        }
        if (acl.getHost().isEmpty()) {
            return invalid("invalid empty host for principal %s: an IP address, or * for every host", principal);
        }
        return ApiError.NONE;
    }

    private static ApiError invalid(String format, Object... args) {
        return ApiError.of(ErrorCode.INVALID_REQUEST, format, args);
    }

    /** An id that no ACL has (also among those this decision just gave out). */
    private UUID newId(Set<UUID> used) {
        UUID id;
        do {
            id = ids.get();
        } while (id.equals(Uuids.ZERO) || !used.add(id));
        return id;
    }
}
