package io.raftmq.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.metadata.image.ScramCredentialData;
import io.raftmq.node.InProcessCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The raftmq command against three combined nodes in this JVM: kafka-topics flows, console producer
 * and consumer, perf, cluster describe, and how errors are reported (message and exit code, never a
 * stack trace for a user mistake). One cluster for the class; each test uses its own topics.
 */
@Timeout(120)
class CliCommandsTest {
    /** What a Java stack trace line looks like. */
    private static final Pattern STACK_TRACE = Pattern.compile("\\n\\s+at [\\w.$]+\\(");

    @TempDir
    static Path dir;

    private static InProcessCluster cluster;
    private static String bootstrap;

    @BeforeAll
    static void start() throws Exception {
        cluster = new InProcessCluster(3, dir, CliRun.STEADY_CLUSTER);
        cluster.startAll();
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
        bootstrap = cluster.bootstrapServers();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
            cluster.assertNoFaults();
        }
    }

    private CliRun raftmq(String... args) {
        return raftmqWithInput("", args);
    }

    private CliRun raftmqWithInput(String stdin, String... args) {
        String[] full = Arrays.copyOf(args, args.length + 2);
        full[args.length] = "--bootstrap-server";
        full[args.length + 1] = bootstrap;
        return CliRun.run(stdin, full);
    }

    private static void assertOk(CliRun run) {
        assertEquals(0, run.exitCode(), run::toString);
    }

    private static void assertUserError(CliRun run, String messagePart) {
        assertEquals(1, run.exitCode(), run::toString);
        assertTrue(run.err().startsWith("Error: "), run::toString);
        assertTrue(run.err().contains(messagePart), run::toString);
        assertFalse(STACK_TRACE.matcher(run.err()).find(), run::toString);
    }

    @Test
    void topicsCreateListDescribeAlterDelete() {
        CliRun created = raftmq("topics", "--create", "--topic", "first", "--partitions", "3",
                "--replication-factor", "3", "--config", "min.insync.replicas=2");
        assertOk(created);
        assertEquals("Created topic first.\n", created.out());

        CliRun list = raftmq("topics", "--list");
        assertOk(list);
        assertTrue(List.of(list.out().split("\n")).contains("first"), list::toString);

        CliRun describe = raftmq("topics", "--describe", "--topic", "first");
        assertOk(describe);
        String[] lines = describe.out().split("\n");
        assertEquals(4, lines.length, describe::toString);
        assertTrue(lines[0].startsWith("Topic: first\tTopicId: "), describe::toString);
        assertTrue(lines[0].contains("\tPartitionCount: 3\tReplicationFactor: 3\tConfigs: min.insync.replicas=2"),
                describe::toString);
        for (int p = 0; p < 3; p++) {
            assertTrue(Pattern.matches("\tTopic: first\tPartition: " + p
                    + "\tLeader: [1-3]\tReplicas: [1-3],[1-3],[1-3]\tIsr: [1-3](,[1-3])*", lines[p + 1]),
                    describe::toString);
        }

        assertOk(raftmq("topics", "--alter", "--topic", "first", "--partitions", "4"));
        CliRun after = raftmq("topics", "--describe", "--topic", "first");
        assertTrue(after.out().contains("PartitionCount: 4"), after::toString);
        assertTrue(after.out().contains("\tPartition: 3\t"), after::toString);

        assertUserError(raftmq("topics", "--alter", "--topic", "first", "--partitions", "2"), "4");

        assertOk(raftmq("topics", "--delete", "--topic", "first"));
        CliRun gone = raftmq("topics", "--list");
        assertFalse(List.of(gone.out().split("\n")).contains("first"), gone::toString);
        assertUserError(raftmq("topics", "--describe", "--topic", "first"), "first");
    }

    @Test
    void userMistakesGiveAMessageAndAnExitCode() {
        CliRun noAction = raftmq("topics", "--topic", "x");
        assertEquals(2, noAction.exitCode(), noAction::toString);
        CliRun badFlag = raftmq("topics", "--list", "--no-such-flag");
        assertEquals(2, badFlag.exitCode(), badFlag::toString);
        assertTrue(badFlag.err().contains("Unknown option: '--no-such-flag'"), badFlag::toString);
        assertUserError(raftmq("topics", "--create", "--topic", "bad/name", "--partitions", "1"), "bad/name");
        assertOk(raftmq("topics", "--create", "--topic", "twice", "--partitions", "1", "--replication-factor", "1"));
        assertUserError(raftmq("topics", "--create", "--topic", "twice", "--partitions", "1"), "twice");
        // An unknown topic is said at once by the producing tools too, not after max.block.ms a record.
        long started = System.nanoTime();
        assertUserError(raftmq("perf", "produce", "--topic", "nosuch", "--num-records", "10", "--record-size", "10",
                "--throughput", "-1"), "topic 'nosuch' does not exist");
        assertUserError(raftmqWithInput("a line\n", "console-producer", "--topic", "nosuch"),
                "topic 'nosuch' does not exist");
        assertUserError(raftmq("perf", "consume", "--topic", "nosuch", "--num-records", "10"),
                "topic 'nosuch' does not exist");
        assertUserError(raftmq("perf", "consume", "--topic", "nosuch", "--num-records", "10", "--group", "g"),
                "topic 'nosuch' does not exist");
        assertUserError(raftmq("console-consumer", "--topic", "nosuch", "--group", "g", "--timeout-ms", "1000"),
                "topic 'nosuch' does not exist");
        assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(30), "well before max.block.ms (60 s)");
    }

    @Test
    void consoleProducerThenConsumerFromBeginning() {
        assertOk(raftmq("topics", "--create", "--topic", "lines", "--partitions", "1", "--replication-factor", "3"));
        CliRun produced = raftmqWithInput("one\ntwo\nthree\n", "console-producer", "--topic", "lines",
                "--producer-property", "enable.idempotence=false");
        assertOk(produced);

        CliRun consumed = raftmq("console-consumer", "--topic", "lines", "--from-beginning", "--max-messages", "3");
        assertOk(consumed);
        assertEquals("one\ntwo\nthree\n", consumed.out());
        assertTrue(consumed.err().contains("Processed a total of 3 messages"), consumed::toString);

        CliRun fromOffset = raftmq("console-consumer", "--topic", "lines", "--partition", "0", "--offset", "1",
                "--max-messages", "2");
        assertOk(fromOffset);
        assertEquals("two\nthree\n", fromOffset.out());
    }

    @Test
    void keysAreParsedAndPrinted() {
        assertOk(raftmq("topics", "--create", "--topic", "keyed", "--partitions", "2", "--replication-factor", "3"));
        assertOk(raftmqWithInput("k1:v1\nk2:v2\n", "console-producer", "--topic", "keyed", "--property",
                "parse.key=true", "--property", "key.separator=:", "--producer-property", "enable.idempotence=false"));
        CliRun consumed = raftmq("console-consumer", "--topic", "keyed", "--from-beginning", "--max-messages", "2",
                "--property", "print.key=true");
        assertOk(consumed);
        assertEquals(List.of("k1\tv1", "k2\tv2"), Arrays.stream(consumed.out().split("\n")).sorted().toList());

        CliRun noSeparator = raftmqWithInput("novalue\n", "console-producer", "--topic", "keyed", "--key-separator",
                ":", "--producer-property", "enable.idempotence=false");
        assertEquals(1, noSeparator.exitCode(), noSeparator::toString);
        assertTrue(noSeparator.err().contains("no key separator"), noSeparator::toString);
    }

    @Test
    void consumerTimesOutWithTheCountSoFar() {
        assertOk(raftmq("topics", "--create", "--topic", "quiet", "--partitions", "1", "--replication-factor", "1"));
        CliRun consumed = raftmq("console-consumer", "--topic", "quiet", "--from-beginning", "--timeout-ms", "500");
        assertOk(consumed);
        assertEquals("", consumed.out());
        assertTrue(consumed.err().contains("Processed a total of 0 messages"), consumed::toString);
    }

    @Test
    void perfProducePrintsKafkasSummaryAndConsumeReadsItBack() {
        assertOk(raftmq("topics", "--create", "--topic", "perf", "--partitions", "3", "--replication-factor", "3"));
        CliRun produced = raftmq("perf", "produce", "--topic", "perf", "--num-records", "3000", "--record-size", "100",
                "--throughput", "-1", "--acks", "all", "--producer-props", "enable.idempotence=false");
        assertOk(produced);
        assertTrue(Pattern.compile("(?m)^3000 records sent, [\\d.]+ records/sec \\([\\d.]+ MB/sec\\), [\\d.]+ ms avg"
                + " latency, [\\d.]+ ms max latency, \\d+ ms 50th, \\d+ ms 95th, \\d+ ms 99th, \\d+ ms 99.9th\\.$")
                .matcher(produced.out()).find(), produced::toString);

        CliRun consumed = raftmq("perf", "consume", "--topic", "perf", "--num-records", "3000");
        assertOk(consumed);
        String[] lines = consumed.out().split("\n");
        assertEquals("start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec,"
                + " rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec", lines[lines.length - 2]);
        assertEquals("3000", lines[lines.length - 1].split(", ")[4], consumed::toString);

        assertOk(raftmq("topics", "--create", "--topic", "e2e", "--partitions", "1", "--replication-factor", "3"));
        CliRun e2e = raftmq("perf", "e2e", "--topic", "e2e", "--num-records", "50",
                "--producer-props", "enable.idempotence=false");
        assertOk(e2e);
        assertTrue(Pattern.compile("(?m)^Percentiles: 50th = \\d+, 99th = \\d+, 99.9th = \\d+$").matcher(e2e.out())
                .find(), e2e::toString);
    }

    @Test
    void clusterDescribeShowsVotersBrokersAndPartitions() {
        assertOk(raftmq("topics", "--create", "--topic", "described", "--partitions", "2", "--replication-factor", "3"));
        CliRun described = raftmq("cluster", "describe");
        assertOk(described);
        String out = described.out();
        assertTrue(Pattern.compile("(?m)^Cluster id: [A-Za-z0-9_-]{22}$").matcher(out).find(), described::toString);
        assertTrue(Pattern.compile("(?m)^Active controller: node [1-3] \\(epoch \\d+\\)$").matcher(out).find(),
                described::toString);
        for (int id = 1; id <= 3; id++) {
            assertTrue(Pattern.compile("(?m)^\\s+" + id + "\\s+127\\.0\\.0\\.1:\\d+\\s+(leader|follower)$").matcher(out)
                    .find(), described::toString);
            assertTrue(Pattern.compile("(?m)^\\s+" + id + "\\s+UNFENCED\\s+grpc 127\\.0\\.0\\.1:\\d+").matcher(out)
                    .find(), described::toString);
        }
        assertTrue(Pattern.compile("(?m)^\\s+described\\s+1\\s+[1-3]\\s+\\d+\\s+[1-3],[1-3],[1-3]\\s+[1-3](,[1-3])*$")
                .matcher(out).find(), described::toString);
    }

    @Test
    void usersAddListDelete() throws Exception {
        CliRun added = raftmqWithInput("alice-secret\n", "users", "add", "--user", "alice");
        assertOk(added);
        assertEquals("Set the SCRAM-SHA-256 credential of user alice (4096 iterations).\n"
                + "Set the SCRAM-SHA-512 credential of user alice (4096 iterations).\n", added.out());
        assertOk(raftmq("users", "add", "--user", "bob", "--password", "bob-secret", "--mechanism", "SCRAM-SHA-512",
                "--iterations", "8192"));

        CliRun listed = raftmq("users", "list");
        assertOk(listed);
        assertEquals(List.of("USER   MECHANISM      ITERATIONS", "alice  SCRAM-SHA-256  4096",
                "alice  SCRAM-SHA-512  4096", "bob    SCRAM-SHA-512  8192"), List.of(listed.out().split("\n")));

        // What the client salted is what Kafka's SCRAM server checks: the stored key of the password.
        await().atMost(Duration.ofSeconds(10)).until(() -> !cluster.node(1).broker().image()
                .scramCredentials("bob").isEmpty());
        ScramCredentialData bob = cluster.node(1).broker().image().scramCredentials("bob")
                .get(io.raftmq.protocol.metadata.ScramMechanism.SCRAM_SHA_512);
        ScramFormatter formatter = new ScramFormatter(ScramMechanism.SCRAM_SHA_512);
        byte[] salted = formatter.saltedPassword("bob-secret", bob.salt(), bob.iterations());
        assertArrayEquals(formatter.storedKey(formatter.clientKey(salted)), bob.storedKey());
        assertArrayEquals(formatter.serverKey(salted), bob.serverKey());

        assertUserError(raftmq("users", "add", "--user", "carol", "--password", "x", "--iterations", "100"),
                "Too few iterations: 100");
        assertUserError(raftmq("users", "add", "--user", "carol", "--password", "x", "--mechanism", "MD5"),
                "unknown SCRAM mechanism 'MD5'");
        assertUserError(raftmq("users", "list", "--user", "carol"), "does not exist: carol");

        CliRun deleted = raftmq("users", "delete", "--user", "alice");
        assertOk(deleted);
        assertEquals("Deleted the SCRAM-SHA-256 credential of user alice.\n"
                + "Deleted the SCRAM-SHA-512 credential of user alice.\n", deleted.out());
        assertUserError(raftmq("users", "delete", "--user", "bob", "--mechanism", "SCRAM-SHA-256"),
                "does not exist");
        CliRun after = raftmq("users", "list");
        assertEquals(List.of("USER  MECHANISM      ITERATIONS", "bob   SCRAM-SHA-512  8192"),
                List.of(after.out().split("\n")), after::toString);
    }
}
