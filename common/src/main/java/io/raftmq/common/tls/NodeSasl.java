package io.raftmq.common.tls;

import io.grpc.Status;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.rpc.SaslSession;

/**
 * How a node's own SASL sessions (its channels to other nodes' SASL_PLAINTEXT gRPC ports) bound and
 * type their failures: as gRPC statuses, which the node's callers already retry or report. A refusal
 * (a wrong node secret, a mechanism the other node does not enable) is UNAUTHENTICATED naming the
 * node and the reason; anything else keeps its transport status. Constants only.
 */
final class NodeSasl {
    /** How long one authentication with another node may take. */
    static final long EXCHANGE_TIMEOUT_MS = 10_000;

    static final SaslSession.Failures FAILURES = new SaslSession.Failures() {
        @Override
        public RuntimeException refused(ErrorCode code, String message, Throwable cause) {
            return Status.UNAUTHENTICATED.withDescription(code + ": " + message).withCause(cause).asRuntimeException();
        }

        @Override
        public RuntimeException failed(Throwable transportFailure) {
            return Status.fromThrowable(transportFailure).withCause(transportFailure).asRuntimeException();
        }

        @Override
        public boolean isRefusal(Throwable failure) {
            return Status.fromThrowable(failure).getCode() == Status.Code.UNAUTHENTICATED;
        }
    };

    private NodeSasl() {}
}
