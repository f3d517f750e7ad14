package io.raftmq.broker.group;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.ApiError;
import io.raftmq.common.MockTime;
import io.raftmq.common.config.Config;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.replication.ReplicaManager;
import io.raftmq.replication.ReplicationConfig;
import io.raftmq.storage.LogEnvironment;
import io.raftmq.storage.LogManager;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The group coordinator's loop takes at most queued.max.requests (500) client requests: while its
 * thread is busy, one more is answered COORDINATOR_LOAD_IN_PROGRESS at once and nothing of it is
 * queued.
 */
@Timeout(60)
class GroupCoordinatorBackPressureTest {
    @TempDir
    Path dir;

    @Test
    void requestsPastTheBoundAreAnsweredBusyAtOnce() throws Exception {
        MockTime time = new MockTime();
        ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(1);
        ReplicaManager replicas = new ReplicaManager(1, () -> 1, id -> -1, id -> true,
                new LogManager(dir, new LogEnvironment(time, scheduler, (d, e) -> { })),
                new ReplicationConfig(new Config(Map.of(), ReplicationConfig.KEYS)),
                proposal -> new CompletableFuture<>(), time, scheduler);
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        // The loop reads the metadata for every request: the first read holds the loop's thread.
        GroupCoordinator coordinator = new GroupCoordinator(1, GroupShardTest.CONFIG, replicas, () -> {
            entered.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return MetadataImage.EMPTY;
        }, null, time); // queued.max.requests at Kafka's default, 500
        coordinator.start();
        try {
            List<CompletableFuture<ApiError>> answers = new ArrayList<>();
            answers.add(coordinator.onShard("g", e -> e, (shard, reply) -> reply.accept(ApiError.NONE)));
            assertTrue(entered.await(10, TimeUnit.SECONDS));
            for (int i = 0; i < 500; i++) {
                answers.add(coordinator.onShard("g" + i, e -> e, (shard, reply) -> reply.accept(ApiError.NONE)));
            }
            CompletableFuture<ApiError> refused = coordinator.onShard("late", e -> e,
                    (shard, reply) -> reply.accept(ApiError.NONE));
            assertTrue(refused.isDone(), "answered at once, not queued");
            assertEquals(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, refused.get().code());
            assertTrue(refused.get().message().contains("queued.max.requests"), refused.get().message());
            for (CompletableFuture<ApiError> queued : answers) {
                assertFalse(queued.isDone(), "waiting for the loop");
            }
            release.countDown();
            for (CompletableFuture<ApiError> queued : answers) {
                assertEquals(ErrorCode.NOT_COORDINATOR, queued.get(10, TimeUnit.SECONDS).code(),
                        "no __consumer_offsets in the empty image");
            }
        } finally {
            release.countDown();
            coordinator.close();
            replicas.close();
            scheduler.shutdownNow();
        }
    }
}
