package io.raftmq.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.ApiError;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.AllocateProducerIdsRequest;
import io.raftmq.protocol.controller.AllocateProducerIdsResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class ProducerIdManagerTest {
    /** A controller whose answers the test completes. */
    private final List<CompletableFuture<AllocateProducerIdsResponse>> calls = new ArrayList<>();
    private final List<AllocateProducerIdsRequest> requests = new ArrayList<>();
    private long epoch = 7;
    private final ProducerIdManager manager = new ProducerIdManager(3, () -> epoch, request -> {
        CompletableFuture<AllocateProducerIdsResponse> f = new CompletableFuture<>();
        synchronized (calls) {
            requests.add(request);
            calls.add(f);
        }
        return f;
    });

    private static AllocateProducerIdsResponse block(long start) {
        return AllocateProducerIdsResponse.newBuilder().setError(ApiError.NONE.toProto()).setProducerIdStart(start)
                .setProducerIdLen(1000).build();
    }

    @Test
    void handsOutEveryIdOfABlockOnceAndFetchesTheNextAhead() throws Exception {
        CompletableFuture<Long> first = manager.nextProducerId();
        assertFalse(first.isDone(), "waits for the first block");
        assertEquals(1, calls.size());
        assertEquals(3, requests.get(0).getBrokerId());
        assertEquals(7, requests.get(0).getBrokerEpoch());
        calls.get(0).complete(block(5000));
        Set<Long> ids = new HashSet<>();
        ids.add(first.get(5, TimeUnit.SECONDS));
        for (int i = 1; i < 899; i++) {
            ids.add(manager.nextProducerId().getNow(-1L));
        }
        assertEquals(1, calls.size(), "no prefetch while more than 100 ids are left");
        for (int i = 899; i < 1000; i++) {
            ids.add(manager.nextProducerId().getNow(-1L));
        }
        assertEquals(2, calls.size(), "one prefetch when 100 ids are left");
        assertEquals(1000, ids.size());
        assertTrue(ids.stream().allMatch(id -> id >= 5000 && id < 6000));
        assertEquals(6000, manager.allocatedEnd());
        calls.get(1).complete(block(9000));
        assertEquals(9000, manager.nextProducerId().getNow(-1L), "the prefetched block, without waiting");
        assertEquals(10_000, manager.allocatedEnd());
    }

    @Test
    void aRefusalIsATypedError() throws Exception {
        CompletableFuture<Long> id = manager.nextProducerId();
        calls.get(0).complete(AllocateProducerIdsResponse.newBuilder().setError(ApiError.of(
                ErrorCode.STALE_BROKER_EPOCH, "broker 3 sent epoch 7, but its registration has epoch 8").toProto())
                .build());
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> id.get(5, TimeUnit.SECONDS));
        ProducerIdManager.ApiException api = assertInstanceOf(ProducerIdManager.ApiException.class, e.getCause());
        assertEquals(ErrorCode.COORDINATOR_NOT_AVAILABLE, api.error.code());
        assertTrue(api.error.message().contains("STALE_BROKER_EPOCH"), api.error.message());
        // The next call asks again.
        CompletableFuture<Long> again = manager.nextProducerId();
        calls.get(1).complete(block(0));
        assertEquals(0, again.get(5, TimeUnit.SECONDS));
    }

    /**
     * As Kafka: a producer without a transactional id always gets a new id at epoch 0, whatever id
     * and epoch it names. Bumping the named id's epoch would let any client fence another producer
     * by naming its id (ids are small sequential numbers, easily guessed).
     */
    @Test
    void initProducerIdAlwaysAnswersANewIdAtEpochZero() throws Exception {
        InitProducerIdHandler handler = new InitProducerIdHandler(manager);
        CompletableFuture<InitProducerIdHandler.Result> fresh = handler.handle(-1, -1);
        calls.get(0).complete(block(1000));
        InitProducerIdHandler.Result r = fresh.get(5, TimeUnit.SECONDS);
        assertEquals(1000, r.producerId());
        assertEquals(0, r.producerEpoch());
        InitProducerIdHandler.Result named = handler.handle(1000, 0).get(5, TimeUnit.SECONDS);
        assertEquals(ErrorCode.NONE, named.error().code(), named.error().message());
        assertEquals(1001, named.producerId(), "another producer's id is never bumped");
        assertEquals(0, named.producerEpoch());
        InitProducerIdHandler.Result anyEpoch = handler.handle(1000, 4).get(5, TimeUnit.SECONDS);
        assertEquals(1002, anyEpoch.producerId());
        assertEquals(0, anyEpoch.producerEpoch());
        InitProducerIdHandler.Result unknown = handler.handle(5_000_000, 0).get(5, TimeUnit.SECONDS);
        assertEquals(1003, unknown.producerId());
        assertEquals(0, unknown.producerEpoch());
    }

    @Test
    void anUnregisteredBrokerHasNoIds() {
        epoch = -1;
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> manager.nextProducerId().get(5, TimeUnit.SECONDS));
        assertEquals(ErrorCode.COORDINATOR_NOT_AVAILABLE,
                ((ProducerIdManager.ApiException) e.getCause()).error.code());
        assertTrue(calls.isEmpty());
    }
}
