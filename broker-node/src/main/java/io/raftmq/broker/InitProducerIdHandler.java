package io.raftmq.broker;

import io.raftmq.common.ApiError;
import io.raftmq.protocol.common.ErrorCode;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/**
 * InitProducerId for idempotent (non-transactional) producers, as Kafka answers it:
 *
 * <ul>
 *   <li>no producer id (-1): a new id from the {@link ProducerIdManager}, epoch 0;
 *   <li>a producer id and epoch the producer already holds: the same id with the epoch bumped (the
 *       producer then restarts its sequences at 0 on every partition; partition leaders fence the
 *       old epoch), or a new id at epoch 0 once the epoch would pass Short.MAX_VALUE;
 *   <li>an id this cluster never handed out, or a negative epoch: refused (UNKNOWN_PRODUCER_ID,
 *       INVALID_REQUEST). Transactional ids never reach it ({@link BrokerApi} refuses them).
 * </ul>
 *
 * <p>Stateless apart from the manager; any thread.
 */
final class InitProducerIdHandler {
    /** The answer: a producer id and epoch, or an error (then both -1). */
    record Result(ApiError error, long producerId, int producerEpoch) {
        static Result of(long producerId, int producerEpoch) {
            return new Result(ApiError.NONE, producerId, producerEpoch);
        }
    }


    private final ProducerIdManager ids;
    /** The first producer id the cluster has not handed out, from this broker's metadata. */
    private final LongSupplier clusterNextProducerId;

    InitProducerIdHandler(ProducerIdManager ids, LongSupplier clusterNextProducerId) {
        this.ids = ids;
        this.clusterNextProducerId = clusterNextProducerId;
    }

    /** @param producerId -1 for a new producer */
    CompletableFuture<Result> handle(long producerId, int epoch) {
        if (producerId < -1) {
            return answer(ApiError.of(ErrorCode.INVALID_REQUEST, "producer id %d is invalid: -1 asks for a new one",
                    producerId));
        }
        if (producerId >= 0) {
            if (producerId >= Math.max(clusterNextProducerId.getAsLong(), ids.allocatedEnd())) {
                return answer(ApiError.of(ErrorCode.UNKNOWN_PRODUCER_ID, "producer id %d was never handed out by this"
                        + " cluster; ask for a new one with producer id -1", producerId));
            }
            if (epoch < 0 || epoch > Short.MAX_VALUE) {
                return answer(ApiError.of(ErrorCode.INVALID_REQUEST, "producer %d: epoch %d is not a valid epoch"
                        + " (0..%d)", producerId, epoch, Short.MAX_VALUE));
            }
            if (epoch < Short.MAX_VALUE - 1) {
                return CompletableFuture.completedFuture(Result.of(producerId, epoch + 1));
            }
            // The epoch is used up: a new id, as Kafka does.
        }
        return ids.nextProducerId().handle((id, error) -> {
            if (error != null) {
                Throwable cause = BrokerApi.unwrap(error);
                ApiError apiError = cause instanceof ProducerIdManager.ApiException api ? api.error
                        : ApiError.of(ErrorCode.UNKNOWN_SERVER_ERROR, "no producer id: %s", cause.toString());
                return new Result(apiError, -1, -1);
            }
            return Result.of(id, 0);
        });
    }

    private static CompletableFuture<Result> answer(ApiError error) {
        return CompletableFuture.completedFuture(new Result(error, -1, -1));
    }
}
