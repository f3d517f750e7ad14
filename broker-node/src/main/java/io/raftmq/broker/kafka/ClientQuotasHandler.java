package io.raftmq.broker.kafka;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.DescribeClientQuotasResponseData;
import org.apache.kafka.common.protocol.Errors;

/**
 * DescribeClientQuotas: raftmq enforces no client quotas, so every filter matches no entity and the
 * answer lists none. Served because {@code kafka-configs --describe --entity-type users} asks for a
 * user's quotas alongside its SCRAM credentials; AlterClientQuotas is not served (not advertised),
 * so no quota can be set that would not be enforced. Stateless.
 */
final class ClientQuotasHandler {

    CompletableFuture<KafkaResponse> describeClientQuotas(KafkaRequest request) {
        return CompletableFuture.completedFuture(KafkaResponse.send(new DescribeClientQuotasResponseData()
                .setErrorCode(Errors.NONE.code())));
    }
}
