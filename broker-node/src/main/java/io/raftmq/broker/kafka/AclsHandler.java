package io.raftmq.broker.kafka;

import static io.raftmq.broker.kafka.KafkaAuthorization.caller;

import io.raftmq.broker.BrokerApi;
import io.raftmq.common.ApiError;
import io.raftmq.metadata.image.Acls;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.AclFilter;
import io.raftmq.protocol.controller.CreateAclsRequest;
import io.raftmq.protocol.controller.CreateAclsResponse;
import io.raftmq.protocol.controller.DeleteAclsFilterResult;
import io.raftmq.protocol.controller.DeleteAclsRequest;
import io.raftmq.protocol.metadata.AclEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.CreateAclsRequestData;
import org.apache.kafka.common.message.CreateAclsRequestData.AclCreation;
import org.apache.kafka.common.message.CreateAclsResponseData;
import org.apache.kafka.common.message.CreateAclsResponseData.AclCreationResult;
import org.apache.kafka.common.message.DeleteAclsRequestData;
import org.apache.kafka.common.message.DeleteAclsRequestData.DeleteAclsFilter;
import org.apache.kafka.common.message.DeleteAclsResponseData;
import org.apache.kafka.common.message.DeleteAclsResponseData.DeleteAclsMatchingAcl;
import org.apache.kafka.common.message.DescribeAclsRequestData;
import org.apache.kafka.common.message.DescribeAclsResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DescribeAclsResponse;

/**
 * Kafka CreateAcls, DescribeAcls and DeleteAcls (v1-3), as Kafka's AclApis answers them: with the
 * authorizer off, SECURITY_DISABLED for everything; on, creating and deleting need ALTER on the
 * cluster and describing DESCRIBE on it (else CLUSTER_AUTHORIZATION_FAILED, and nothing changes).
 * Creations and deletions go to the controller, which decides each ACL and filter ({@code
 * AclDecisions}: a bad ACL is refused alone with INVALID_REQUEST naming the problem); the answer
 * comes once this broker's metadata has the change, so a describe or a request that follows sees
 * it. DescribeAcls reads this broker's metadata. A deletion answers each filter with the ACLs it
 * removed.
 *
 * <p>Stateless; called on connection event loops, never blocks.
 */
final class AclsHandler {
    private final BrokerApi api;
    private final KafkaAuthorization authz;

    AclsHandler(BrokerApi api, KafkaAuthorization authz) {
        this.api = api;
        this.authz = authz;
    }

    /** The refusal of an ACL request, or null when it may go ahead. */
    private ApiError refusal(KafkaRequest request, AclOperation needed) {
        if (!authz.enabled()) {
            return ApiError.of(ErrorCode.SECURITY_DISABLED, "No Authorizer is configured on the broker"
                    + " (authorizer.enabled=false)");
        }
        boolean allowed = needed == AclOperation.DESCRIBE ? authz.rules().mayDescribeAcls(caller(request))
                : authz.rules().mayAlterAcls(caller(request));
        if (!allowed) {
            return KafkaAuthorization.clusterDenied(request, needed);
        }
        return null;
    }

    CompletableFuture<KafkaResponse> createAcls(KafkaRequest request) {
        CreateAclsRequestData data = (CreateAclsRequestData) request.body();
        ApiError refused = refusal(request, AclOperation.ALTER);
        if (refused != null) {
            List<AclCreationResult> results = new ArrayList<>();
            data.creations().forEach(c -> results.add(creationResult(refused)));
            return CompletableFuture.completedFuture(KafkaResponse.send(new CreateAclsResponseData()
                    .setThrottleTimeMs(0).setResults(results)));
        }
        CreateAclsRequest.Builder forward = CreateAclsRequest.newBuilder();
        for (AclCreation c : data.creations()) {
            forward.addAcls(AclEntry.newBuilder()
                    .setResourceType(c.resourceType())
                    .setResourceName(c.resourceName())
                    .setPatternType(c.resourcePatternType())
                    .setPrincipal(c.principal())
                    .setHost(c.host())
                    .setOperation(c.operation())
                    .setPermissionType(c.permissionType()));
        }
        CompletableFuture<CreateAclsResponse> created = forward.getAclsCount() == 0
                ? CompletableFuture.completedFuture(CreateAclsResponse.newBuilder().build())
                : api.admin().createAcls(forward.build());
        return request.onLoop(created, r -> {
            ApiError whole = ApiError.fromProto(r.getError());
            List<AclCreationResult> results = new ArrayList<>();
            for (int i = 0; i < data.creations().size(); i++) {
                ApiError error = whole.isFailure() ? whole : i < r.getResultsCount()
                        ? ApiError.fromProto(r.getResults(i)) : ApiError.of(ErrorCode.UNKNOWN_SERVER_ERROR,
                        "the controller's answer has %d result(s) for %d ACL(s)", r.getResultsCount(),
                        data.creations().size());
                results.add(creationResult(error));
            }
            return KafkaResponse.send(new CreateAclsResponseData().setThrottleTimeMs(0).setResults(results));
        });
    }

    private static AclCreationResult creationResult(ApiError error) {
        return new AclCreationResult().setErrorCode(KafkaErrors.code(error)).setErrorMessage(KafkaErrors.message(error));
    }

    CompletableFuture<KafkaResponse> describeAcls(KafkaRequest request) {
        DescribeAclsRequestData data = (DescribeAclsRequestData) request.body();
        ApiError refused = refusal(request, AclOperation.DESCRIBE);
        AclBindingFilter filter = refused != null ? null : Acls.toFilter(AclFilter.newBuilder()
                .setResourceType(data.resourceTypeFilter())
                .setPatternType(data.patternTypeFilter())
                .setOperation(data.operation())
                .setPermissionType(data.permissionType())
                .mergeFrom(optional(data.resourceNameFilter(), data.principalFilter(), data.hostFilter()))
                .build());
        if (refused == null && filter.isUnknown()) {
            refused = ApiError.of(ErrorCode.INVALID_REQUEST, "the filter %s has a value this broker does not know",
                    filter);
        }
        DescribeAclsResponseData response = new DescribeAclsResponseData().setThrottleTimeMs(0);
        if (refused != null) {
            response.setErrorCode(KafkaErrors.code(refused)).setErrorMessage(KafkaErrors.message(refused));
        } else {
            List<AclBinding> matching = Acls.matching(api.image().acls(), filter);
            response.setErrorCode(Errors.NONE.code()).setResources(DescribeAclsResponse.aclsResources(matching));
        }
        return CompletableFuture.completedFuture(KafkaResponse.send(response));
    }

    CompletableFuture<KafkaResponse> deleteAcls(KafkaRequest request) {
        DeleteAclsRequestData data = (DeleteAclsRequestData) request.body();
        ApiError refused = refusal(request, AclOperation.ALTER);
        if (refused != null) {
            List<DeleteAclsResponseData.DeleteAclsFilterResult> results = new ArrayList<>();
            data.filters().forEach(f -> results.add(filterResult(refused)));
            return CompletableFuture.completedFuture(KafkaResponse.send(new DeleteAclsResponseData()
                    .setThrottleTimeMs(0).setFilterResults(results)));
        }
        DeleteAclsRequest.Builder forward = DeleteAclsRequest.newBuilder();
        for (DeleteAclsFilter f : data.filters()) {
            forward.addFilters(AclFilter.newBuilder()
                    .setResourceType(f.resourceTypeFilter())
                    .setPatternType(f.patternTypeFilter())
                    .setOperation(f.operation())
                    .setPermissionType(f.permissionType())
                    .mergeFrom(optional(f.resourceNameFilter(), f.principalFilter(), f.hostFilter())));
        }
        CompletableFuture<io.raftmq.protocol.controller.DeleteAclsResponse> deleted = forward.getFiltersCount() == 0
                ? CompletableFuture.completedFuture(io.raftmq.protocol.controller.DeleteAclsResponse.newBuilder()
                        .build())
                : api.admin().deleteAcls(forward.build());
        return request.onLoop(deleted, r -> {
            ApiError whole = ApiError.fromProto(r.getError());
            List<DeleteAclsResponseData.DeleteAclsFilterResult> results = new ArrayList<>();
            for (int i = 0; i < data.filters().size(); i++) {
                if (whole.isFailure() || i >= r.getResultsCount()) {
                    results.add(filterResult(whole.isFailure() ? whole : ApiError.of(ErrorCode.UNKNOWN_SERVER_ERROR,
                            "the controller's answer has %d result(s) for %d filter(s)", r.getResultsCount(),
                            data.filters().size())));
                    continue;
                }
                DeleteAclsFilterResult result = r.getResults(i);
                DeleteAclsResponseData.DeleteAclsFilterResult out = filterResult(ApiError.fromProto(result.getError()));
                List<DeleteAclsMatchingAcl> matching = new ArrayList<>();
                for (AclEntry removed : result.getRemovedList()) {
                    matching.add(org.apache.kafka.common.requests.DeleteAclsResponse.matchingAcl(Acls.toBinding(removed),
                            org.apache.kafka.common.requests.ApiError.NONE));
                }
                results.add(out.setMatchingAcls(matching));
            }
            return KafkaResponse.send(new DeleteAclsResponseData().setThrottleTimeMs(0).setFilterResults(results));
        });
    }

    private static DeleteAclsResponseData.DeleteAclsFilterResult filterResult(ApiError error) {
        return new DeleteAclsResponseData.DeleteAclsFilterResult().setErrorCode(KafkaErrors.code(error))
                .setErrorMessage(KafkaErrors.message(error));
    }

    /** The filter's nullable strings (null: any value). */
    private static AclFilter optional(String resourceName, String principal, String host) {
        AclFilter.Builder out = AclFilter.newBuilder();
        if (resourceName != null) {
            out.setResourceName(resourceName);
        }
        if (principal != null) {
            out.setPrincipal(principal);
        }
        if (host != null) {
            out.setHost(host);
        }
        return out.build();
    }
}
