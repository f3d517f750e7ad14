package io.raftmq.broker.kafka;

import com.google.protobuf.ByteString;
import io.raftmq.broker.BrokerApi;
import io.raftmq.common.ApiError;
import io.raftmq.protocol.controller.AlterUserScramCredentialsRequest;
import io.raftmq.protocol.controller.DescribeUserScramCredentialsResponse;
import io.raftmq.protocol.controller.ScramCredentialDeletion;
import io.raftmq.protocol.controller.ScramCredentialInfo;
import io.raftmq.protocol.controller.ScramCredentialUpsertion;
import io.raftmq.protocol.controller.UserScramCredentialResult;
import io.raftmq.protocol.controller.UserScramCredentialsDescription;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData;
import org.apache.kafka.common.message.AlterUserScramCredentialsResponseData;
import org.apache.kafka.common.message.AlterUserScramCredentialsResponseData.AlterUserScramCredentialsResult;
import org.apache.kafka.common.message.DescribeUserScramCredentialsRequestData;
import org.apache.kafka.common.message.DescribeUserScramCredentialsResponseData;
import org.apache.kafka.common.message.DescribeUserScramCredentialsResponseData.CredentialInfo;
import org.apache.kafka.common.message.DescribeUserScramCredentialsResponseData.DescribeUserScramCredentialsResult;
import org.apache.kafka.common.security.auth.KafkaPrincipal;

/**
 * AlterUserScramCredentials (forwarded to the controller, which validates and stores them salted
 * and hashed) and DescribeUserScramCredentials (answered from this broker's metadata): what
 * {@code kafka-configs --entity-type users --alter --add-config 'SCRAM-SHA-256=[password=...]'} and
 * {@code Admin.alterUserScramCredentials} send. The client salts and hashes the password itself;
 * the password never reaches the broker.
 *
 * <p>Stateless; called on the connections' event loops.
 */
final class ScramCredentialsHandler {
    private final BrokerApi api;

    ScramCredentialsHandler(BrokerApi api) {
        this.api = api;
    }

    CompletableFuture<KafkaResponse> alterUserScramCredentials(KafkaRequest request) {
        AlterUserScramCredentialsRequestData data = (AlterUserScramCredentialsRequestData) request.body();
        ApiError denied = authorizeAlterCredentials(request.principal());
        if (denied.isFailure()) {
            return CompletableFuture.completedFuture(KafkaResponse.send(everyUser(data, denied)));
        }
        AlterUserScramCredentialsRequest.Builder forward = AlterUserScramCredentialsRequest.newBuilder();
        for (AlterUserScramCredentialsRequestData.ScramCredentialDeletion d : data.deletions()) {
            forward.addDeletions(ScramCredentialDeletion.newBuilder().setName(d.name())
                    .setMechanismValue(d.mechanism()));
        }
        for (AlterUserScramCredentialsRequestData.ScramCredentialUpsertion u : data.upsertions()) {
            forward.addUpsertions(ScramCredentialUpsertion.newBuilder().setName(u.name())
                    .setMechanismValue(u.mechanism()).setIterations(u.iterations())
                    .setSalt(ByteString.copyFrom(u.salt())).setSaltedPassword(ByteString.copyFrom(u.saltedPassword())));
        }
        return request.onLoop(api.admin().alterUserScramCredentials(forward.build()), response -> {
            ApiError topLevel = ApiError.fromProto(response.getError());
            if (topLevel.isFailure()) {
                return KafkaResponse.send(everyUser(data, topLevel));
            }
            AlterUserScramCredentialsResponseData answer = new AlterUserScramCredentialsResponseData();
            for (UserScramCredentialResult result : response.getResultsList()) {
                ApiError error = ApiError.fromProto(result.getError());
                answer.results().add(new AlterUserScramCredentialsResult().setUser(result.getUser())
                        .setErrorCode(KafkaErrors.code(error)).setErrorMessage(KafkaErrors.message(error)));
            }
            return KafkaResponse.send(answer);
        });
    }

    /**
     * Whether {@code principal} may set and delete credentials: NONE, or the error every user of
     * the request is answered with. Any principal while the authorizer is off (as Kafka without
     * an authorizer), which is how the first user of a SASL-only cluster can be made over the
     * Kafka protocol too. The one place for the authorizer's check: ALTER on CLUSTER, else
     * CLUSTER_AUTHORIZATION_FAILED.
     */
    private ApiError authorizeAlterCredentials(KafkaPrincipal principal) {
        return ApiError.NONE;
    }

    /** {@code error} for each user of the request, once each, as Kafka's getErrorResponse answers. */
    private static AlterUserScramCredentialsResponseData everyUser(AlterUserScramCredentialsRequestData data,
            ApiError error) {
        Set<String> users = new LinkedHashSet<>();
        data.deletions().forEach(d -> users.add(d.name()));
        data.upsertions().forEach(u -> users.add(u.name()));
        AlterUserScramCredentialsResponseData answer = new AlterUserScramCredentialsResponseData();
        for (String user : users) {
            answer.results().add(new AlterUserScramCredentialsResult().setUser(user)
                    .setErrorCode(KafkaErrors.code(error)).setErrorMessage(KafkaErrors.message(error)));
        }
        return answer;
    }

    CompletableFuture<KafkaResponse> describeUserScramCredentials(KafkaRequest request) {
        DescribeUserScramCredentialsRequestData data = (DescribeUserScramCredentialsRequestData) request.body();
        List<String> users = new ArrayList<>();
        if (data.users() != null) {
            data.users().forEach(u -> users.add(u.name()));
        }
        DescribeUserScramCredentialsResponse described = api.admin().describeUserScramCredentials(users);
        DescribeUserScramCredentialsResponseData answer = new DescribeUserScramCredentialsResponseData()
                .setErrorCode(KafkaErrors.code(ApiError.fromProto(described.getError())));
        for (UserScramCredentialsDescription user : described.getUsersList()) {
            ApiError error = ApiError.fromProto(user.getError());
            DescribeUserScramCredentialsResult result = new DescribeUserScramCredentialsResult()
                    .setUser(user.getUser()).setErrorCode(KafkaErrors.code(error))
                    .setErrorMessage(KafkaErrors.message(error));
            for (ScramCredentialInfo info : user.getCredentialsList()) {
                result.credentialInfos().add(new CredentialInfo().setMechanism((byte) info.getMechanismValue())
                        .setIterations(info.getIterations()));
            }
            answer.results().add(result);
        }
        return CompletableFuture.completedFuture(KafkaResponse.send(answer));
    }
}
