package io.raftmq.storage;

import static io.raftmq.storage.TestLogs.batch;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.MockTime;
import io.raftmq.protocol.TopicPartition;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The partition directories: creation, deletion, topic ids, stray logs, directory fsyncs. */
@Timeout(60)
class LogManagerTest {
    @TempDir
    Path root;

    private final MockTime time = new MockTime();
    private TestLogs.Env env;
    private LogManager manager;

    @BeforeEach
    void setUp() throws Exception {
        env = new TestLogs.Env(time);
        manager = started();
    }

    @AfterEach
    void tearDown() {
        manager.close();
        env.close();
    }

    private LogManager started() throws Exception {
        LogManager m = new LogManager(root.resolve("logs"), env.environment);
        m.startup(tp -> LogConfig.defaults(), 0);
        return m;
    }

    private static void append(PartitionLog log, int records) {
        assertInstanceOf(AppendResult.Appended.class, log.appendAsLeader(batch(records, 10, 1000), 0));
    }

    private List<String> entries() throws Exception {
        try (Stream<Path> list = Files.list(root.resolve("logs"))) {
            return list.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aTopicOfTheLongestNameIsDeletedAndItsNewTopicStartsEmpty() throws Exception {
        TopicPartition tp = new TopicPartition("t".repeat(249), 12);
        append(manager.getOrCreate(tp, UUID.randomUUID(), LogConfig.defaults()), 5);

        manager.delete(tp); // the "-delete" name must fit in 255 bytes
        await().atMost(Duration.ofSeconds(10)).until(() -> entries().isEmpty());

        PartitionLog again = manager.getOrCreate(tp, UUID.randomUUID(), LogConfig.defaults());
        assertEquals(0, again.logEndOffset(), "the new topic adopted the old topic's records");
    }

    @Test
    void deleteDirNamesFitAFileNameAndKeepThePartition() {
        UUID unique = UUID.randomUUID();
        for (int length : new int[] {1, 200, 209, 210, 249}) {
            String name = LogManager.deleteDirName(new TopicPartition("x".repeat(length), 123), unique);
            assertTrue(name.getBytes(StandardCharsets.UTF_8).length <= LogManager.MAX_FILE_NAME_BYTES,
                    length + ": " + name.length());
            assertTrue(name.endsWith("-123." + unique.toString().replace("-", "") + "-delete"), name);
        }
    }

    @Test
    void aDirectoryOnDiskOfAnotherTopicIsNeverAdopted() throws Exception {
        TopicPartition tp = new TopicPartition("orders", 0);
        UUID old = UUID.randomUUID();
        append(manager.getOrCreate(tp, old, LogConfig.defaults()), 5);
        manager.close();
        // A manager that has not loaded that directory (say it could not be opened at start).
        manager = new LogManager(root.resolve("logs"), env.environment);

        PartitionLog fresh = manager.getOrCreate(tp, UUID.randomUUID(), LogConfig.defaults());
        assertEquals(0, fresh.logEndOffset(), "the new topic adopted the old topic's records");
    }

    @Test
    void aDirectoryOfTheSameTopicIsReopened() throws Exception {
        TopicPartition tp = new TopicPartition("orders", 0);
        UUID id = UUID.randomUUID();
        append(manager.getOrCreate(tp, id, LogConfig.defaults()), 5);
        manager.close();
        manager = new LogManager(root.resolve("logs"), env.environment);

        assertEquals(5, manager.getOrCreate(tp, id, LogConfig.defaults()).logEndOffset());
    }

    @Test
    void strayLogsAreDeletedAndAssignedOnesKept() throws Exception {
        TopicPartition kept = new TopicPartition("kept", 0);
        TopicPartition deleted = new TopicPartition("deleted", 0);
        TopicPartition recreated = new TopicPartition("recreated", 0);
        UUID keptId = UUID.randomUUID();
        append(manager.getOrCreate(kept, keptId, LogConfig.defaults()), 3);
        append(manager.getOrCreate(deleted, UUID.randomUUID(), LogConfig.defaults()), 3);
        append(manager.getOrCreate(recreated, UUID.randomUUID(), LogConfig.defaults()), 3);
        manager.close();
        manager = started(); // a restart: the broker loads what is on disk

        List<TopicPartition> stray = manager.deleteStrayLogs(Map.of(kept, keptId, recreated, UUID.randomUUID()));

        assertEquals(List.of(deleted, recreated), stray.stream().sorted((a, b) -> a.topic().compareTo(b.topic()))
                .toList());
        assertNotNull(manager.get(kept));
        assertNull(manager.get(deleted));
        assertNull(manager.get(recreated));
        await().atMost(Duration.ofSeconds(10)).until(() -> entries().equals(List.of("kept-0")));
        assertEquals(3, manager.get(kept).logEndOffset());
    }

    @Test
    void directoryChangesAreFsyncedInTheirParent() throws Exception {
        Path logs = root.resolve("logs");
        TopicPartition tp = new TopicPartition("orders", 0);
        env.directorySyncs.clear();

        PartitionLog log = manager.getOrCreate(tp, UUID.randomUUID(), LogConfig.defaults());
        assertTrue(env.directorySyncs.contains(logs), "new partition directory: " + env.directorySyncs);
        assertTrue(env.directorySyncs.contains(log.dir()), "first segment: " + env.directorySyncs);

        env.directorySyncs.clear();
        PartitionLog small = manager.getOrCreate(new TopicPartition("small", 0), UUID.randomUUID(),
                TestLogs.config("segment.bytes", "1024"));
        env.directorySyncs.clear();
        for (int i = 0; i < 3; i++) {
            append(small, 20); // each batch fills a segment: rolls
        }
        assertTrue(small.segmentCount() > 1);
        assertTrue(env.directorySyncs.contains(small.dir()), "rolled segment: " + env.directorySyncs);

        env.directorySyncs.clear();
        small.truncateTo(1); // every segment after the first goes
        assertEquals(1, small.segmentCount());
        assertTrue(env.directorySyncs.contains(small.dir()), "segments renamed *.deleted: " + env.directorySyncs);

        env.directorySyncs.clear();
        manager.delete(tp);
        assertEquals(List.of(logs), env.directorySyncs.stream().filter(logs::equals).toList(),
                "rename to -delete: " + env.directorySyncs);
        assertSame(null, manager.get(tp));
        assertFalse(Files.exists(logs.resolve("orders-0")));
    }
}
