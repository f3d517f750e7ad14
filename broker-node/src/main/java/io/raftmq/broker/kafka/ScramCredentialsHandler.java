package io.raftmq.broker.kafka;

import static io.raftmq.broker.kafka.KafkaAuthorization.caller;

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
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData;
import org.apache.kafka.common.message.AlterUserScramCredentialsResponseData;
import org.apache.kafka.common.message.AlterUserScramCredentialsResponseData.AlterUserScramCredentialsResult;
import org.apache.kafka.common.message.DescribeUserScramCredentialsRequestData;
import org.apache.kafka.common.message.DescribeUserScramCredentialsResponseData;
import org.apache.kafka.common.message.DescribeUserScramCredentialsResponseData.CredentialInfo;
import org.apache.kafka.common.message.DescribeUserScramCredentialsResponseData.DescribeUserScramCredentialsResult;

/**
 * AlterUserScramCredentials (forwarded to the controller, which validates and stores them salted
 * and hashed) and DescribeUserScramCredentials (answered from this broker's metadata): what
 * {@code kafka-configs --entity-type users --alter --add-config 'SCRAM-SHA-256=[password=...]'} and
 * {@code Admin.alterUserScramCredentials} send. The client salts and hashes the password itself;
 * the password never reaches the broker. With the authorizer on, altering needs ALTER and
 * describing DESCRIBE on the cluster, as in Kafka (CLUSTER_AUTHORIZATION_FAILED otherwise).
 *
 * <p>Stateless; called on the connections' event loops.
 */
final class ScramCredentialsHandler {
    private final BrokerApi api;
    private final KafkaAuthorization authz;

    ScramCredentialsHandler(BrokerApi api, KafkaAuthorization authz) {
        this.api = api;
        this.authz = authz;
    }

    CompletableFuture<KafkaResponse> alterUserScramCredentials(KafkaRequest request) {
        AlterUserScramCredentialsRequestData data = (AlterUserScramCredentialsRequestData) request.body();
        if (!authz.rules().mayAlterScramCredentials(caller(request))) {
            ApiError denied = KafkaAuthorization.clusterDenied(request, AclOperation.ALTER);
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
        if (!authz.rules().mayDescribeScramCredentials(caller(request))) {
            ApiError denied = KafkaAuthorization.clusterDenied(request, AclOperation.DESCRIBE);
            return CompletableFuture.completedFuture(KafkaResponse.send(new DescribeUserScramCredentialsResponseData()
                    .setErrorCode(KafkaErrors.code(denied)).setErrorMessage(KafkaErrors.message(denied))));
        }
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
