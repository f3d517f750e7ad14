package io.raftmq.broker.sasl;

import java.security.GeneralSecurityException;
import java.util.EnumMap;
import java.util.Map;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.common.security.scram.ScramCredential;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;

/**
 * The SASL users of a SASL_PLAINTEXT gRPC port: the nodes' own users {@code node-<id>} (any id),
 * whose password is the cluster's node secret ({@code grpc.sasl.node.secret}, the same on every
 * node), and, for every other name, the SCRAM users of the metadata ({@code clients}). A name of the
 * form {@code node-<id>} is never looked up in the metadata, so a SCRAM user of that name cannot pose
 * as a node. Nodes take the role of Kafka's inter-broker SASL user; as there, knowing the secret is
 * what makes a caller a node.
 *
 * <p>The node users' SCRAM credentials (SHA-256 and SHA-512, fresh salt) are derived once, when
 * built. Immutable; any thread.
 */
public final class NodeUsers implements ScramCredentials {
    /** The user name prefix of nodes: {@code node-<id>}, as a node certificate's {@code CN=node-<id>}. */
    public static final String PREFIX = "node-";
    private static final Pattern NODE_USER = Pattern.compile(PREFIX + "(0|[1-9][0-9]{0,9})");
    private static final int ITERATIONS = 4096;

    private final Map<ScramMechanism, ScramCredential> nodeCredentials;
    private final ScramCredentials clients;

    public NodeUsers(String nodeSecret, ScramCredentials clients) {
        this.clients = clients;
        Map<ScramMechanism, ScramCredential> credentials = new EnumMap<>(ScramMechanism.class);
        for (ScramMechanism mechanism : ScramMechanism.values()) {
            try {
                credentials.put(mechanism, new ScramFormatter(mechanism).generateCredential(nodeSecret, ITERATIONS));
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("the JDK cannot derive a " + mechanism + " credential: " + e, e);
            }
        }
        this.nodeCredentials = Map.copyOf(credentials);
    }

    @Override
    public OptionalInt nodeOf(String user) {
        return nodeIdOf(user);
    }

    /** The node a user name stands for, when it is of the form {@code node-<id>}. */
    static OptionalInt nodeIdOf(String user) {
        Matcher m = NODE_USER.matcher(user);
        if (!m.matches()) {
            return OptionalInt.empty();
        }
        long id = Long.parseLong(m.group(1));
        return id <= Integer.MAX_VALUE ? OptionalInt.of((int) id) : OptionalInt.empty();
    }

    @Override
    public Map<ScramMechanism, ScramCredential> of(String user) {
        return nodeIdOf(user).isPresent() ? nodeCredentials : clients.of(user);
    }
}
