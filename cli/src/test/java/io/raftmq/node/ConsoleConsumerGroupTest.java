package io.raftmq.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.HostPort;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
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
        bootstrap = cluster.addresses().stream().map(HostPort::toString).collect(Collectors.joining(","));
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
}
