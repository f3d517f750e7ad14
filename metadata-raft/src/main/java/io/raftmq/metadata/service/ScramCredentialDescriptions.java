package io.raftmq.metadata.service;

import io.raftmq.common.ApiError;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.ScramCredentialData;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.DescribeUserScramCredentialsResponse;
import io.raftmq.protocol.controller.ScramCredentialInfo;
import io.raftmq.protocol.controller.UserScramCredentialsDescription;
import io.raftmq.protocol.metadata.ScramMechanism;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * DescribeUserScramCredentials answered from a {@link MetadataImage}, as Kafka's ScramImage does:
 * every user with a credential when none is named, else each named user once, in request order, with
 * RESOURCE_NOT_FOUND when the user has no credential and DUPLICATE_RESOURCE when named twice. Only
 * mechanisms and iterations, never the keys. The brokers' Kafka listener and the voters' Controller
 * service answer from it. Stateless.
 */
public final class ScramCredentialDescriptions {
    private ScramCredentialDescriptions() {}

    public static DescribeUserScramCredentialsResponse of(MetadataImage image, List<String> users) {
        DescribeUserScramCredentialsResponse.Builder out = DescribeUserScramCredentialsResponse.newBuilder()
                .setError(ApiError.NONE.toProto());
        Map<String, Boolean> duplicated = new LinkedHashMap<>();
        if (users.isEmpty()) {
            image.scramUsersSorted().keySet().forEach(user -> duplicated.put(user, false));
        } else {
            Set<String> seen = new HashSet<>();
            for (String user : users) {
                duplicated.put(user, !seen.add(user));
            }
        }
        duplicated.forEach((user, twice) -> {
            UserScramCredentialsDescription.Builder description = UserScramCredentialsDescription.newBuilder()
                    .setUser(user);
            Map<ScramMechanism, ScramCredentialData> credentials = image.scramCredentials(user);
            if (twice) {
                description.setError(ApiError.of(ErrorCode.DUPLICATE_RESOURCE, "Cannot describe SCRAM credentials for"
                        + " the same user twice in a single request: %s", user).toProto());
            } else if (credentials.isEmpty()) {
                description.setError(ApiError.of(ErrorCode.RESOURCE_NOT_FOUND, "Attempt to describe a user credential"
                        + " that does not exist: %s", user).toProto());
            } else {
                description.setError(ApiError.NONE.toProto());
                List<ScramCredentialInfo> infos = new ArrayList<>();
                new TreeMap<>(credentials).forEach((mechanism, data) -> infos.add(ScramCredentialInfo.newBuilder()
                        .setMechanism(mechanism).setIterations(data.iterations()).build()));
                description.addAllCredentials(infos);
            }
            out.addUsers(description);
        });
        return out.build();
    }
}
