package io.raftmq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.AlterUserScramCredentialsRequest;
import io.raftmq.protocol.controller.AlterUserScramCredentialsResponse;
import io.raftmq.protocol.controller.ScramCredentialUpsertion;
import io.raftmq.protocol.metadata.ScramMechanism;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;

/**
 * Creates SCRAM users in an {@link InProcessCluster} through a broker's own admin (no client
 * authentication needed: the first users of a SASL cluster), salted and hashed as kafka-clients'
 * Admin does, and waits until every running node's metadata has them.
 */
public final class ScramUsersFixture {
    private ScramUsersFixture() {}

    /** Gives {@code user} a credential of {@code mechanism} for {@code password} (4096 iterations). */
    public static void create(InProcessCluster cluster, String user, String password, ScramMechanism mechanism)
            throws Exception {
        org.apache.kafka.common.security.scram.internals.ScramMechanism kafka =
                mechanism == ScramMechanism.SCRAM_SHA_256
                        ? org.apache.kafka.common.security.scram.internals.ScramMechanism.SCRAM_SHA_256
                        : org.apache.kafka.common.security.scram.internals.ScramMechanism.SCRAM_SHA_512;
        ScramFormatter formatter = new ScramFormatter(kafka);
        byte[] salt = formatter.secureRandomBytes();
        ScramCredentialUpsertion upsertion = ScramCredentialUpsertion.newBuilder().setName(user)
                .setMechanism(mechanism).setIterations(4096).setSalt(ByteString.copyFrom(salt))
                .setSaltedPassword(ByteString.copyFrom(formatter.saltedPassword(password, salt, 4096))).build();
        RaftmqServer any = cluster.node(1) != null ? cluster.node(1) : cluster.node(2);
        AlterUserScramCredentialsResponse made = any.broker().api().admin().alterUserScramCredentials(
                AlterUserScramCredentialsRequest.newBuilder().addUpsertions(upsertion).build())
                .get(30, TimeUnit.SECONDS);
        assertEquals(ErrorCode.NONE, made.getError().getCode(), made.toString());
        assertEquals(ErrorCode.NONE, made.getResults(0).getError().getCode(), made.toString());
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            for (int id = 1; id <= 5; id++) {
                RaftmqServer node = cluster.node(id);
                if (node != null && !node.broker().image().scramCredentials(user).containsKey(mechanism)) {
                    return false;
                }
            }
            return true;
        });
    }
}
