package io.raftmq.metadata.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.metadata.image.Acls;
import io.raftmq.metadata.image.ImageRecords;
import io.raftmq.metadata.image.MetadataDelta;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.protocol.common.Error;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.AclFilter;
import io.raftmq.protocol.controller.CreateAclsRequest;
import io.raftmq.protocol.controller.CreateAclsResponse;
import io.raftmq.protocol.controller.DeleteAclsRequest;
import io.raftmq.protocol.controller.DeleteAclsResponse;
import io.raftmq.protocol.metadata.AclEntry;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
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
import org.junit.jupiter.api.Test;

class AclDecisionsTest {
    private final ControllerDecisions decisions = TestImages.decisions();

    static AclBinding acl(ResourceType type, String name, PatternType pattern, String principal, AclOperation op,
            AclPermissionType permission) {
        return new AclBinding(new ResourcePattern(type, name, pattern),
                new AccessControlEntry(principal, "*", op, permission));
    }

    private static final AclBinding ALICE_READS_ORDERS = acl(ResourceType.TOPIC, "orders", PatternType.LITERAL,
            "User:alice", AclOperation.READ, AclPermissionType.ALLOW);
    private static final AclBinding BOB_WRITES_LOGS = acl(ResourceType.TOPIC, "logs-", PatternType.PREFIXED,
            "User:bob", AclOperation.WRITE, AclPermissionType.ALLOW);
    private static final AclBinding ALICE_DENIED_GROUP = acl(ResourceType.GROUP, "*", PatternType.LITERAL,
            "User:alice", AclOperation.ALL, AclPermissionType.DENY);

    private MetadataImage create(MetadataImage image, AclEntry... acls) {
        ControllerResult<CreateAclsResponse> result = decisions.createAcls(image,
                CreateAclsRequest.newBuilder().addAllAcls(List.of(acls)).build());
        result.reply().getResultsList().forEach(e -> assertEquals(ErrorCode.NONE, e.getCode(), e.getMessage()));
        return TestImages.apply(image, result.records());
    }

    @Test
    void createdAclsReplayIntoTheImageOnceEach() {
        ControllerResult<CreateAclsResponse> result = decisions.createAcls(MetadataImage.EMPTY,
                CreateAclsRequest.newBuilder()
                        .addAcls(Acls.toEntry(ALICE_READS_ORDERS))
                        .addAcls(Acls.toEntry(BOB_WRITES_LOGS))
                        .addAcls(Acls.toEntry(ALICE_READS_ORDERS)) // the same ACL twice in one request
                        .build());
        assertEquals(3, result.reply().getResultsCount());
        assertEquals(2, result.records().size(), "one record per distinct ACL");
        MetadataImage image = TestImages.apply(MetadataImage.EMPTY, result.records());
        assertEquals(Set.of(ALICE_READS_ORDERS, BOB_WRITES_LOGS), Set.copyOf(image.acls().byId().values()));

        // Creating an ACL that exists succeeds and writes nothing (Kafka's behaviour).
        ControllerResult<CreateAclsResponse> again = decisions.createAcls(image,
                CreateAclsRequest.newBuilder().addAcls(Acls.toEntry(BOB_WRITES_LOGS)).build());
        assertEquals(ErrorCode.NONE, again.reply().getResults(0).getCode());
        assertTrue(again.records().isEmpty());
    }

    @Test
    void invalidAclsAreRefusedOneByOneWithKafkasErrorNamingTheProblem() {
        AclEntry good = Acls.toEntry(ALICE_READS_ORDERS);
        List<AclEntry> bad = List.of(
                good.toBuilder().setResourceType(ResourceType.ANY.code()).build(),
                good.toBuilder().setResourceType(ResourceType.UNKNOWN.code()).build(),
                good.toBuilder().setPatternType(PatternType.MATCH.code()).build(),
                good.toBuilder().setPatternType(PatternType.ANY.code()).build(),
                good.toBuilder().setOperation(AclOperation.ANY.code()).build(),
                good.toBuilder().setOperation(99).build(),
                good.toBuilder().setPermissionType(AclPermissionType.ANY.code()).build(),
                good.toBuilder().setResourceName("").build(),
                good.toBuilder().setResourceType(ResourceType.CLUSTER.code()).setResourceName("orders").build(),
                good.toBuilder().setPrincipal("alice").build(),
                good.toBuilder().setPrincipal("User:").build(),
                good.toBuilder().setHost("").build());
        List<String> expected = List.of("invalid resource type ANY", "invalid resource type UNKNOWN",
                "invalid pattern type MATCH", "invalid pattern type ANY", "invalid operation ANY",
                "invalid operation UNKNOWN (code 99)", "invalid permission type ANY", "invalid empty resource name",
                "the only valid name for the CLUSTER resource is kafka-cluster; got 'orders'",
                "invalid principal 'alice'", "invalid principal 'User:'", "invalid empty host");
        CreateAclsRequest.Builder request = CreateAclsRequest.newBuilder().addAllAcls(bad).addAcls(good);
        ControllerResult<CreateAclsResponse> result = decisions.createAcls(MetadataImage.EMPTY, request.build());
        for (int i = 0; i < bad.size(); i++) {
            Error e = result.reply().getResults(i);
            assertEquals(ErrorCode.INVALID_REQUEST, e.getCode(), bad.get(i).toString());
            assertTrue(e.getMessage().contains(expected.get(i)), e.getMessage());
        }
        assertEquals(ErrorCode.NONE, result.reply().getResults(bad.size()).getCode(), "the valid one is added");
        assertEquals(1, result.records().size());
    }

    @Test
    void deleteRemovesWhatEachFilterMatchesAndReportsIt() {
        MetadataImage image = create(MetadataImage.EMPTY, Acls.toEntry(ALICE_READS_ORDERS),
                Acls.toEntry(BOB_WRITES_LOGS), Acls.toEntry(ALICE_DENIED_GROUP));
        AclBindingFilter alicesAcls = new AclBindingFilter(ResourcePatternFilter.ANY,
                new AccessControlEntryFilter("User:alice", null, AclOperation.ANY, AclPermissionType.ANY));
        AclBindingFilter appliesToLogsA = new AclBindingFilter(
                new ResourcePatternFilter(ResourceType.TOPIC, "logs-a", PatternType.MATCH), AccessControlEntryFilter.ANY);
        AclBindingFilter nothing = new AclBindingFilter(
                new ResourcePatternFilter(ResourceType.TRANSACTIONAL_ID, null, PatternType.ANY),
                AccessControlEntryFilter.ANY);
        ControllerResult<DeleteAclsResponse> result = decisions.deleteAcls(image, DeleteAclsRequest.newBuilder()
                .addFilters(Acls.toProto(alicesAcls))
                .addFilters(Acls.toProto(appliesToLogsA))
                .addFilters(Acls.toProto(nothing))
                .addFilters(AclFilter.newBuilder().setResourceType(ResourceType.TOPIC.code())
                        .setPatternType(PatternType.UNKNOWN.code()).setOperation(AclOperation.ANY.code())
                        .setPermissionType(AclPermissionType.ANY.code()))
                .build());
        assertEquals(Set.of(ALICE_READS_ORDERS, ALICE_DENIED_GROUP), removed(result.reply(), 0));
        assertEquals(Set.of(BOB_WRITES_LOGS), removed(result.reply(), 1));
        assertEquals(Set.of(), removed(result.reply(), 2));
        assertEquals(ErrorCode.INVALID_REQUEST, result.reply().getResults(3).getError().getCode());
        assertEquals(3, result.records().size());
        assertTrue(TestImages.apply(image, result.records()).acls().isEmpty());
    }

    @Test
    void anAclMatchedByTwoFiltersIsRemovedOnceAndReportedByBoth() {
        MetadataImage image = create(MetadataImage.EMPTY, Acls.toEntry(ALICE_READS_ORDERS));
        ControllerResult<DeleteAclsResponse> result = decisions.deleteAcls(image, DeleteAclsRequest.newBuilder()
                .addFilters(Acls.toProto(AclBindingFilter.ANY)).addFilters(Acls.toProto(ALICE_READS_ORDERS.toFilter()))
                .build());
        assertEquals(1, result.records().size());
        assertEquals(Set.of(ALICE_READS_ORDERS), removed(result.reply(), 0));
        assertEquals(Set.of(ALICE_READS_ORDERS), removed(result.reply(), 1));
    }

    @Test
    void aclsSurviveASnapshotAndAreReplayedIdentically() {
        MetadataImage image = create(MetadataImage.EMPTY, Acls.toEntry(ALICE_READS_ORDERS),
                Acls.toEntry(BOB_WRITES_LOGS), Acls.toEntry(ALICE_DENIED_GROUP));
        MetadataImage loaded = MetadataDelta.loadSnapshot(image.offset(), ImageRecords.of(image));
        assertEquals(image, loaded);
        assertEquals(ImageRecords.of(image), ImageRecords.of(loaded), "deterministic order");
        assertEquals(List.of(BOB_WRITES_LOGS), loaded.acls().applying(ResourceType.TOPIC, "logs-2026"));
    }

    private static Set<AclBinding> removed(DeleteAclsResponse reply, int filter) {
        assertEquals(ErrorCode.NONE, reply.getResults(filter).getError().getCode());
        return reply.getResults(filter).getRemovedList().stream().map(Acls::toBinding).collect(Collectors.toSet());
    }
}
