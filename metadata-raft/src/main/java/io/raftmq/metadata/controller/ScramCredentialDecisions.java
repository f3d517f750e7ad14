package io.raftmq.metadata.controller;

import com.google.protobuf.ByteString;
import io.raftmq.common.ApiError;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.AlterUserScramCredentialsRequest;
import io.raftmq.protocol.controller.AlterUserScramCredentialsResponse;
import io.raftmq.protocol.controller.ScramCredentialDeletion;
import io.raftmq.protocol.controller.ScramCredentialUpsertion;
import io.raftmq.protocol.controller.UserScramCredentialResult;
import io.raftmq.protocol.metadata.MetadataRecord;
import io.raftmq.protocol.metadata.RemoveUserScramCredentialRecord;
import io.raftmq.protocol.metadata.ScramMechanism;
import io.raftmq.protocol.metadata.UserScramCredentialRecord;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * AlterUserScramCredentials decided as Kafka's ScramControlManager does: each user at most once per
 * request (else DUPLICATE_RESOURCE for that user), a known mechanism (UNSUPPORTED_SASL_MECHANISM), a
 * non-empty name and 4096..16384 iterations (UNACCEPTABLE_CREDENTIAL), a deletion only of a
 * credential that exists (RESOURCE_NOT_FOUND). An upsertion carries the salted password the client
 * computed; only the stored key and the server key derived from it (RFC 5802) are written. Each
 * user's alteration succeeds or fails alone; the results follow the order users first appear in.
 * Pure and stateless.
 */
final class ScramCredentialDecisions {
    /** Kafka's bounds: RFC 7677's minimum, and ScramControlManager's maximum. */
    static final int MIN_ITERATIONS = 4096;
    static final int MAX_ITERATIONS = 16384;

    private ScramCredentialDecisions() {}

    static ControllerResult<AlterUserScramCredentialsResponse> alter(MetadataImage image,
            AlterUserScramCredentialsRequest request) {
        // By user, in order of first appearance: the accepted change (a record) or the refusal.
        Map<String, Object> outcomes = new LinkedHashMap<>();
        for (ScramCredentialDeletion deletion : request.getDeletionsList()) {
            String user = deletion.getName();
            if (outcomes.containsKey(user)) {
                outcomes.put(user, duplicate(user));
                continue;
            }
            ApiError error = validate(user, deletion.getMechanism(), deletion.getMechanismValue());
            if (error.isSuccess() && !image.scramCredentials(user).containsKey(deletion.getMechanism())) {
                error = ApiError.of(ErrorCode.RESOURCE_NOT_FOUND, "Attempt to delete a user credential that does"
                        + " not exist: user '%s' has no %s credential", user, name(deletion.getMechanism()));
            }
            outcomes.put(user, error.isFailure() ? error : MetadataRecord.newBuilder().setRemoveUserScramCredential(
                    RemoveUserScramCredentialRecord.newBuilder().setName(user).setMechanism(deletion.getMechanism()))
                    .build());
        }
        for (ScramCredentialUpsertion upsertion : request.getUpsertionsList()) {
            String user = upsertion.getName();
            if (outcomes.containsKey(user)) {
                outcomes.put(user, duplicate(user));
                continue;
            }
            ApiError error = validate(user, upsertion.getMechanism(), upsertion.getMechanismValue());
            if (error.isSuccess()) {
                error = validateUpsertion(upsertion);
            }
            outcomes.put(user, error.isFailure() ? error : credentialRecord(upsertion));
        }
        List<MetadataRecord> records = new ArrayList<>();
        AlterUserScramCredentialsResponse.Builder reply = AlterUserScramCredentialsResponse.newBuilder()
                .setError(ApiError.NONE.toProto());
        outcomes.forEach((user, outcome) -> {
            ApiError error = outcome instanceof ApiError refused ? refused : ApiError.NONE;
            if (outcome instanceof MetadataRecord record) {
                records.add(record);
            }
            reply.addResults(UserScramCredentialResult.newBuilder().setUser(user).setError(error.toProto()));
        });
        return ControllerResult.of(records, reply.build());
    }

    private static ApiError duplicate(String user) {
        return ApiError.of(ErrorCode.DUPLICATE_RESOURCE, "A user credential cannot be altered twice in the same"
                + " request: user '%s'", user);
    }

    private static ApiError validate(String user, ScramMechanism mechanism, int typeId) {
        if (user.isEmpty()) {
            return ApiError.of(ErrorCode.UNACCEPTABLE_CREDENTIAL, "Username must not be empty");
        }
        if (mechanism != ScramMechanism.SCRAM_SHA_256 && mechanism != ScramMechanism.SCRAM_SHA_512) {
            return ApiError.of(ErrorCode.UNSUPPORTED_SASL_MECHANISM, "Unknown SCRAM mechanism (type id %d) for"
                    + " user '%s'; SCRAM-SHA-256 is 1, SCRAM-SHA-512 is 2", typeId, user);
        }
        return ApiError.NONE;
    }

    private static ApiError validateUpsertion(ScramCredentialUpsertion upsertion) {
        int iterations = upsertion.getIterations();
        if (iterations < MIN_ITERATIONS) {
            return ApiError.of(ErrorCode.UNACCEPTABLE_CREDENTIAL, "Too few iterations: %d for user '%s' (at least"
                    + " %d)", iterations, upsertion.getName(), MIN_ITERATIONS);
        }
        if (iterations > MAX_ITERATIONS) {
            return ApiError.of(ErrorCode.UNACCEPTABLE_CREDENTIAL, "Too many iterations: %d for user '%s' (at most"
                    + " %d)", iterations, upsertion.getName(), MAX_ITERATIONS);
        }
        if (upsertion.getSalt().isEmpty() || upsertion.getSaltedPassword().isEmpty()) {
            return ApiError.of(ErrorCode.UNACCEPTABLE_CREDENTIAL, "The salt and the salted password of user '%s'"
                    + " must not be empty", upsertion.getName());
        }
        return ApiError.NONE;
    }

    /** The record of an accepted upsertion: RFC 5802's stored key and server key of the salted password. */
    private static MetadataRecord credentialRecord(ScramCredentialUpsertion upsertion) {
        String hash = upsertion.getMechanism() == ScramMechanism.SCRAM_SHA_256 ? "SHA-256" : "SHA-512";
        String hmac = upsertion.getMechanism() == ScramMechanism.SCRAM_SHA_256 ? "HmacSHA256" : "HmacSHA512";
        byte[] salted = upsertion.getSaltedPassword().toByteArray();
        try {
            byte[] clientKey = hmac(hmac, salted, "Client Key");
            byte[] storedKey = MessageDigest.getInstance(hash).digest(clientKey);
            byte[] serverKey = hmac(hmac, salted, "Server Key");
            return MetadataRecord.newBuilder().setUserScramCredential(UserScramCredentialRecord.newBuilder()
                    .setName(upsertion.getName())
                    .setMechanism(upsertion.getMechanism())
                    .setSalt(upsertion.getSalt())
                    .setStoredKey(ByteString.copyFrom(storedKey))
                    .setServerKey(ByteString.copyFrom(serverKey))
                    .setIterations(upsertion.getIterations())).build();
        } catch (GeneralSecurityException e) {
            // Every Java runtime has SHA-256/512 and their HMACs.
            throw new IllegalStateException("cannot derive " + name(upsertion.getMechanism()) + " keys: " + e, e);
        }
    }

    private static byte[] hmac(String algorithm, byte[] key, String text) throws GeneralSecurityException {
        Mac mac = Mac.getInstance(algorithm);
        mac.init(new SecretKeySpec(key, algorithm));
        return mac.doFinal(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Kafka's name of a mechanism: SCRAM-SHA-256. */
    static String name(ScramMechanism mechanism) {
        return MetadataChangeLog.mechanismName(mechanism);
    }
}
