package io.raftmq.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.client.Producer;
import io.raftmq.client.ProducerConfig;
import io.raftmq.client.ProducerRecord;
import io.raftmq.client.Serdes;
import io.raftmq.node.InProcessCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * console-consumer --group resumes after the last record it printed, and raftmq groups shows the
 * committed offsets and lag. Runs against the brokers' group coordinator.
 */
@Timeout(120)
class ConsoleConsumerGroupTest {
    @TempDir
    Path dir;

    private InProcessCluster cluster;
    private String bootstrap;

    @BeforeEach
    void start() throws Exception {
        cluster = new InProcessCluster(3, dir, CliRun.STEADY_CLUSTER);
        cluster.startAll();
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
        bootstrap = cluster.bootstrapServers();
    }

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
            cluster.assertNoFaults();
        }
    }

    private CliRun raftmq(String stdin, String... args) {
        String[] full = Arrays.copyOf(args, args.length + 2);
        full[args.length] = "--bootstrap-server";
        full[args.length + 1] = bootstrap;
        return CliRun.run(stdin, full);
    }

    @Test
    void aRestartedGroupConsumerResumesAfterTheLastPrintedRecord() {
        assertEquals(0, raftmq("", "topics", "--create", "--topic", "orders", "--partitions", "1",
                "--replication-factor", "3").exitCode());
        assertEquals(0, raftmq("a\nb\nc\nd\ne\n", "console-producer", "--topic", "orders").exitCode());

        CliRun first = raftmq("", "console-consumer", "--topic", "orders", "--group", "billing", "--from-beginning",
                "--max-messages", "2");
        assertEquals(0, first.exitCode(), first::toString);
        assertEquals("a\nb\n", first.out());

        CliRun described = raftmq("", "groups", "--describe", "--group", "billing");
        assertEquals(0, described.exitCode(), described::toString);
        assertTrue(described.out().contains("Consumer group 'billing' has no active members."), described::toString);
        assertTrue(Pattern.compile("(?m)^GROUP\\s+TOPIC\\s+PARTITION\\s+CURRENT-OFFSET\\s+LOG-END-OFFSET\\s+LAG\\s+"
                + "CONSUMER-ID\\s+HOST\\s+CLIENT-ID$").matcher(described.out()).find(), described::toString);
        assertTrue(Pattern.compile("(?m)^billing\\s+orders\\s+0\\s+2\\s+5\\s+3\\s+-\\s+-\\s+-$")
                .matcher(described.out()).find(), described::toString);

        CliRun resumed = raftmq("", "console-consumer", "--topic", "orders", "--group", "billing", "--from-beginning",
                "--timeout-ms", "3000");
        assertEquals(0, resumed.exitCode(), resumed::toString);
        assertEquals("c\nd\ne\n", resumed.out());
        assertTrue(resumed.err().contains("Processed a total of 3 messages"), resumed::toString);

        CliRun list = raftmq("", "groups", "--list");
        assertEquals("billing\n", list.out(), list::toString);
        CliRun deleted = raftmq("", "groups", "--delete", "--group", "billing");
        assertEquals(0, deleted.exitCode(), deleted::toString);
        assertEquals("", raftmq("", "groups", "--list").out());
    }

    /**
     * A member stopped by --max-messages before it printed anything from some partitions still
     * commits where each of them stands, as Kafka's consumer commits every assigned partition's
     * position: a restart without --from-beginning (so "latest" for uncommitted partitions) must not
     * skip the records it never printed.
     */
    @Test
    void aGroupConsumerStoppedEarlyResumesEveryPartitionWhereItStopped() throws Exception {
        assertEquals(0, raftmq("", "topics", "--create", "--topic", "events", "--partitions", "3",
                "--replication-factor", "3").exitCode());
        Properties config = new Properties();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS, bootstrap);
        try (Producer<String, String> producer = new Producer<>(config, Serdes.stringSerializer(),
                Serdes.stringSerializer())) {
            for (String[] r : new String[][] {{"0", "p0-a"}, {"0", "p0-b"}, {"1", "p1-a"}, {"2", "p2-a"}}) {
                producer.send(new ProducerRecord<>("events", Integer.parseInt(r[0]), null, r[1])).get();
            }
        }

        CliRun first = raftmq("", "console-consumer", "--topic", "events", "--group", "audit", "--from-beginning",
                "--max-messages", "1");
        assertEquals(0, first.exitCode(), first::toString);
        assertEquals(1, first.out().lines().count(), first::toString);

        CliRun resumed = raftmq("", "console-consumer", "--topic", "events", "--group", "audit",
                "--timeout-ms", "3000");
        assertEquals(0, resumed.exitCode(), resumed::toString);
        List<String> all = new ArrayList<>(first.out().lines().toList());
        all.addAll(resumed.out().lines().toList());
        Collections.sort(all);
        assertEquals(List.of("p0-a", "p0-b", "p1-a", "p2-a"), all, () -> first + "\n" + resumed);
        assertTrue(resumed.err().contains("Processed a total of 3 messages"), resumed::toString);
    }
}
