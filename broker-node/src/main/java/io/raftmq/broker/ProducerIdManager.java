package io.raftmq.broker;

import io.raftmq.common.ApiError;
import io.raftmq.protocol.Failures;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.AllocateProducerIdsRequest;
import io.raftmq.protocol.controller.AllocateProducerIdsResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands out producer ids on this broker from blocks the active controller allocates (Kafka's
 * RPCProducerIdManager idea): ids come from committed ProducerIdsRecords, so no id is ever given
 * twice in the cluster, across broker restarts and controller failover alike. The next block is
 * fetched when the current one runs low ({@link #PREFETCH_REMAINING} ids left), so InitProducerId
 * rarely waits for the controller.
 *
 * <pre>
 *   current block: [next, end)      prefetch: none | in flight | ready
 *   next == end and prefetch ready -> the prefetched block becomes current
 *   next == end and none           -> fetch, callers wait for it (bounded)
 * </pre>
 *
 * <p>Threads: any (gRPC threads); the block state is guarded by {@code this}, held only to take an
 * id or swap blocks, never across a call to the controller.
 */
final class ProducerIdManager {
    private static final Logger LOG = LoggerFactory.getLogger(ProducerIdManager.class);
    /** Fetch the next block when this many ids are left in the current one. */
    static final int PREFETCH_REMAINING = 100;
    /** How long InitProducerId waits for a block from the controller. */
    static final long FETCH_TIMEOUT_MS = 10_000;

    /** Asks the active controller for a block ({@code ControllerClient::allocateProducerIds}). */
    interface Allocator {
        CompletableFuture<AllocateProducerIdsResponse> allocate(AllocateProducerIdsRequest request);
    }

    private final int brokerId;
    private final LongSupplier brokerEpoch;
    private final Allocator controller;

    // Guarded by this (allocatedEnd: written under it).
    private long next;
    private long end;
    /** A block fetched ahead while the current one still had ids, or null. */
    private long[] prefetched;
    /** The fetch in flight, or null. */
    private CompletableFuture<long[]> fetch;
    /**
     * The end of the newest block this broker was given (0 before any). Written under this;
     * volatile so that every produce can read it without the lock.
     */
    private volatile long allocatedEnd;

    ProducerIdManager(int brokerId, LongSupplier brokerEpoch, Allocator controller) {
        this.brokerId = brokerId;
        this.brokerEpoch = brokerEpoch;
        this.controller = controller;
    }

    /** The next unused producer id; fails with an {@link ApiException} when none can be had. */
    CompletableFuture<Long> nextProducerId() {
        CompletableFuture<long[]> waitFor;
        synchronized (this) {
            installPrefetchedIfUsedUp();
            if (next < end) {
                long id = next++;
                if (end - next <= PREFETCH_REMAINING && prefetched == null) {
                    startFetch();
                }
                return CompletableFuture.completedFuture(id);
            }
            waitFor = startFetch();
        }
        return waitFor.orTimeout(FETCH_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                .handle((block, error) -> block)
                .thenCompose(block -> {
                    synchronized (this) {
                        installPrefetchedIfUsedUp();
                        if (next < end) {
                            return nextProducerId();
                        }
                    }
                    return CompletableFuture.failedFuture(new ApiException(lastFailure(waitFor)));
                });
    }

    /** Under this: the fetch in flight, or a new one. */
    private CompletableFuture<long[]> startFetch() {
        if (fetch != null) {
            return fetch;
        }
        long epoch = brokerEpoch.getAsLong();
        CompletableFuture<long[]> f;
        if (epoch < 0) {
            f = CompletableFuture.failedFuture(new ApiException(ApiError.of(ErrorCode.COORDINATOR_NOT_AVAILABLE,
                    "broker %d is not registered with the controller yet; producer ids are not available", brokerId)));
        } else {
            f = controller.allocate(AllocateProducerIdsRequest.newBuilder()
                    .setBrokerId(brokerId).setBrokerEpoch(epoch).build())
                    .thenApply(this::checked);
        }
        fetch = f;
        f.whenComplete(this::onFetched);
        return f;
    }

    private long[] checked(AllocateProducerIdsResponse response) {
        if (response.getError().getCode() != ErrorCode.NONE) {
            throw new ApiException(ApiError.of(ErrorCode.COORDINATOR_NOT_AVAILABLE, "the controller refused producer"
                    + " ids to broker %d: %s %s", brokerId, response.getError().getCode(),
                    response.getError().getMessage()));
        }
        return new long[] {response.getProducerIdStart(), response.getProducerIdStart() + response.getProducerIdLen()};
    }

    private synchronized void onFetched(long[] block, Throwable error) {
        fetch = null;
        if (error != null) {
            LOG.warn("[broker {}] could not get producer ids from the controller: {}", brokerId,
                    Failures.unwrap(error).toString());
            return;
        }
        prefetched = block;
        allocatedEnd = Math.max(allocatedEnd, block[1]);
        installPrefetchedIfUsedUp();
    }

    /**
     * Every id below it was handed out by the cluster, as far as this broker knows before its
     * metadata shows the block (its own blocks are known as soon as the controller answers).
     */
    long allocatedEnd() {
        return allocatedEnd;
    }

    /** Under this: the prefetched block becomes current once the current one is used up. */
    private void installPrefetchedIfUsedUp() {
        if (next >= end && prefetched != null) {
            next = prefetched[0];
            end = prefetched[1];
            prefetched = null;
            LOG.info("[broker {}] handing out producer ids {}..{} (a block from the controller)", brokerId, next,
                    end - 1);
        }
    }

    private static ApiError lastFailure(CompletableFuture<long[]> f) {
        try {
            f.getNow(null);
        } catch (CompletionException e) {
            Throwable cause = Failures.unwrap(e);
            if (cause instanceof ApiException api) {
                return api.error;
            }
            return ApiError.of(ErrorCode.COORDINATOR_NOT_AVAILABLE, "no producer ids: the controller call failed:"
                    + " %s", cause.toString());
        } catch (java.util.concurrent.CancellationException e) {
            return ApiError.of(ErrorCode.COORDINATOR_NOT_AVAILABLE, "no producer ids: the controller call was"
                    + " cancelled");
        }
        return ApiError.of(ErrorCode.REQUEST_TIMED_OUT, "no producer ids: the controller did not answer within %d"
                + " ms", FETCH_TIMEOUT_MS);
    }

    /** A typed failure: the error to answer with. */
    static final class ApiException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final transient ApiError error;

        ApiException(ApiError error) {
            super(error.message());
            this.error = error;
        }
    }
}
