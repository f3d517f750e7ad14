package io.raftmq.metadata.controller;

import static io.raftmq.metadata.controller.TestImages.apply;
import static io.raftmq.metadata.controller.TestImages.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.ScramCredentialData;
import io.raftmq.metadata.service.ScramCredentialDescriptions;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.AlterUserScramCredentialsRequest;
import io.raftmq.protocol.controller.AlterUserScramCredentialsResponse;
import io.raftmq.protocol.controller.DescribeUserScramCredentialsResponse;
import io.raftmq.protocol.controller.ScramCredentialDeletion;
import io.raftmq.protocol.controller.ScramCredentialUpsertion;
import io.raftmq.protocol.controller.UserScramCredentialResult;
import io.raftmq.protocol.metadata.ScramMechanism;
import java.util.List;
import org.junit.jupiter.api.Test;

/** AlterUserScramCredentials' validation and records, and DescribeUserScramCredentials, on images. */
class ScramCredentialDecisionsTest {
    private final ControllerDecisions decisions = TestImages.decisions();

    private static ScramCredentialUpsertion.Builder upsert(String user, ScramMechanism mechanism, int iterations) {
        return ScramCredentialUpsertion.newBuilder().setName(user).setMechanism(mechanism).setIterations(iterations)
                .setSalt(ByteString.copyFromUtf8("salt-" + user))
                .setSaltedPassword(ByteString.copyFromUtf8("salted-password-of-" + user));
    }

    private static ScramCredentialDeletion.Builder delete(String user, ScramMechanism mechanism) {
        return ScramCredentialDeletion.newBuilder().setName(user).setMechanism(mechanism);
    }

    private ControllerResult<AlterUserScramCredentialsResponse> alter(MetadataImage image,
            AlterUserScramCredentialsRequest.Builder request) {
        return decisions.alterUserScramCredentials(image, request.build());
    }

    private static UserScramCredentialResult result(AlterUserScramCredentialsResponse reply, String user) {
        return reply.getResultsList().stream().filter(r -> r.getUser().equals(user)).findFirst().orElseThrow();
    }

    @Test
    void upsertionsStoreDerivedKeysAndDeletionsRemoveThem() {
        ControllerResult<AlterUserScramCredentialsResponse> made = alter(MetadataImage.EMPTY,
                AlterUserScramCredentialsRequest.newBuilder()
                        .addUpsertions(upsert("alice", ScramMechanism.SCRAM_SHA_256, 4096))
                        .addUpsertions(upsert("bob", ScramMechanism.SCRAM_SHA_512, 16384)));
        assertEquals(List.of("alice", "bob"), made.reply().getResultsList().stream()
                .map(UserScramCredentialResult::getUser).toList());
        made.reply().getResultsList().forEach(r -> assertEquals(ErrorCode.NONE, r.getError().getCode()));
        assertEquals(2, made.records().size());
        MetadataImage image = apply(MetadataImage.EMPTY, made.records());
        ScramCredentialData alice = image.scramCredentials("alice").get(ScramMechanism.SCRAM_SHA_256);
        assertEquals(4096, alice.iterations());
        assertEquals("salt-alice", new String(alice.salt()));
        assertEquals(32, alice.storedKey().length, "SHA-256");
        assertEquals(32, alice.serverKey().length);
        assertNotEquals(ByteString.copyFrom(alice.storedKey()), ByteString.copyFromUtf8("salted-password-of-alice"),
                "never the salted password itself");
        assertEquals(64, image.scramCredentials("bob").get(ScramMechanism.SCRAM_SHA_512).storedKey().length);

        ControllerResult<AlterUserScramCredentialsResponse> deleted = alter(image, AlterUserScramCredentialsRequest
                .newBuilder().addDeletions(delete("alice", ScramMechanism.SCRAM_SHA_256)));
        assertEquals(ErrorCode.NONE, result(deleted.reply(), "alice").getError().getCode());
        image = apply(image, deleted.records());
        assertTrue(image.scramCredentials("alice").isEmpty());
    }

    @Test
    void refusalsUseKafkasErrorsAndChangeNothingForThatUser() {
        MetadataImage image = apply(MetadataImage.EMPTY, alter(MetadataImage.EMPTY, AlterUserScramCredentialsRequest
                .newBuilder().addUpsertions(upsert("carol", ScramMechanism.SCRAM_SHA_256, 4096))).records());
        ControllerResult<AlterUserScramCredentialsResponse> r = alter(image, AlterUserScramCredentialsRequest
                .newBuilder()
                .addDeletions(delete("carol", ScramMechanism.SCRAM_SHA_512))
                .addDeletions(delete("twice", ScramMechanism.SCRAM_SHA_256))
                .addUpsertions(upsert("twice", ScramMechanism.SCRAM_SHA_256, 4096))
                .addUpsertions(upsert("few", ScramMechanism.SCRAM_SHA_256, 4095))
                .addUpsertions(upsert("many", ScramMechanism.SCRAM_SHA_512, 16385))
                .addUpsertions(upsert("", ScramMechanism.SCRAM_SHA_256, 4096))
                .addUpsertions(upsert("md5", ScramMechanism.SCRAM_SHA_256, 4096).setMechanismValue(7))
                .addUpsertions(upsert("nosalt", ScramMechanism.SCRAM_SHA_256, 4096).setSalt(ByteString.EMPTY))
                .addUpsertions(upsert("ok", ScramMechanism.SCRAM_SHA_512, 4096)));
        assertError(ErrorCode.RESOURCE_NOT_FOUND, result(r.reply(), "carol").getError(), "does not exist", "'carol'",
                "SCRAM-SHA-512");
        assertError(ErrorCode.DUPLICATE_RESOURCE, result(r.reply(), "twice").getError(), "twice in the same request");
        assertError(ErrorCode.UNACCEPTABLE_CREDENTIAL, result(r.reply(), "few").getError(), "Too few iterations",
                "4095", "4096");
        assertError(ErrorCode.UNACCEPTABLE_CREDENTIAL, result(r.reply(), "many").getError(), "Too many iterations",
                "16385", "16384");
        assertError(ErrorCode.UNACCEPTABLE_CREDENTIAL, result(r.reply(), "").getError(), "Username must not be empty");
        assertError(ErrorCode.UNSUPPORTED_SASL_MECHANISM, result(r.reply(), "md5").getError(), "Unknown SCRAM"
                + " mechanism", "type id 7");
        assertError(ErrorCode.UNACCEPTABLE_CREDENTIAL, result(r.reply(), "nosalt").getError(), "salt");
        assertEquals(ErrorCode.NONE, result(r.reply(), "ok").getError().getCode());
        assertEquals(8, r.reply().getResultsCount(), "one result per user");
        assertEquals(1, r.records().size(), "only the accepted user is written");
        assertEquals("ok", r.records().get(0).getUserScramCredential().getName());
    }

    @Test
    void describeListsMechanismsAndIterationsWithKafkasErrors() {
        MetadataImage image = apply(MetadataImage.EMPTY, alter(MetadataImage.EMPTY, AlterUserScramCredentialsRequest
                .newBuilder().addUpsertions(upsert("bob", ScramMechanism.SCRAM_SHA_512, 8192))
                .addUpsertions(upsert("alice", ScramMechanism.SCRAM_SHA_256, 4096))).records());
        image = apply(image, alter(image, AlterUserScramCredentialsRequest.newBuilder()
                .addUpsertions(upsert("alice", ScramMechanism.SCRAM_SHA_512, 5000))).records());
        DescribeUserScramCredentialsResponse all = ScramCredentialDescriptions.of(image, List.of());
        assertEquals(List.of("alice", "bob"), all.getUsersList().stream().map(u -> u.getUser()).toList());
        assertEquals("[SCRAM_SHA_256/4096, SCRAM_SHA_512/5000]", all.getUsers(0).getCredentialsList().stream()
                .map(c -> c.getMechanism() + "/" + c.getIterations()).toList().toString());
        DescribeUserScramCredentialsResponse named = ScramCredentialDescriptions.of(image,
                List.of("bob", "nobody", "bob"));
        assertEquals(2, named.getUsersCount());
        assertError(ErrorCode.DUPLICATE_RESOURCE, named.getUsers(0).getError(), "twice", "bob");
        assertError(ErrorCode.RESOURCE_NOT_FOUND, named.getUsers(1).getError(), "does not exist", "nobody");
    }
}
