package io.raftmq.client;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.raftmq.client.errors.ClusterAuthorizationException;
import io.raftmq.client.errors.CommitFailedException;
import io.raftmq.client.errors.CorruptRecordException;
import io.raftmq.client.errors.ElectionNotNeededException;
import io.raftmq.client.errors.GroupAuthorizationException;
import io.raftmq.client.errors.GroupIdNotFoundException;
import io.raftmq.client.errors.GroupNotEmptyException;
import io.raftmq.client.errors.InvalidConfigException;
import io.raftmq.client.errors.InvalidPartitionsException;
import io.raftmq.client.errors.InvalidProducerEpochException;
import io.raftmq.client.errors.InvalidReplicationFactorException;
import io.raftmq.client.errors.InvalidTopicException;
import io.raftmq.client.errors.LeaderNotAvailableException;
import io.raftmq.client.errors.NetworkException;
import io.raftmq.client.errors.NotCoordinatorException;
import io.raftmq.client.errors.NotEnoughReplicasException;
import io.raftmq.client.errors.NotLeaderException;
import io.raftmq.client.errors.OffsetOutOfRangeException;
import io.raftmq.client.errors.OutOfOrderSequenceException;
import io.raftmq.client.errors.RaftmqException;
import io.raftmq.client.errors.RebalanceInProgressException;
import io.raftmq.client.errors.RecordTooLargeException;
import io.raftmq.client.errors.RetriableException;
import io.raftmq.client.errors.SaslAuthenticationException;
import io.raftmq.client.errors.SslAuthenticationException;
import io.raftmq.client.errors.TimeoutException;
import io.raftmq.client.errors.TopicAuthorizationException;
import io.raftmq.client.errors.TopicExistsException;
import io.raftmq.client.errors.UnknownProducerIdException;
import io.raftmq.client.errors.UnknownTopicException;
import io.raftmq.protocol.Failures;
import io.raftmq.protocol.common.Error;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.rpc.SaslSessionHeaders;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import javax.net.ssl.SSLException;

/**
 * The one table from wire {@link ErrorCode} to exception type, and from gRPC transport failures to
 * exceptions. A code not in the table becomes a plain {@link RaftmqException}, or a
 * {@link RetriableException} when {@link #RETRIABLE} lists it. Stateless; any thread.
 */
final class Errors {
    /** Codes that are worth retrying (after a metadata or coordinator refresh where it applies). */
    static final Set<ErrorCode> RETRIABLE = Set.of(ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.LEADER_NOT_AVAILABLE,
            ErrorCode.REQUEST_TIMED_OUT, ErrorCode.NETWORK_EXCEPTION, ErrorCode.NOT_ENOUGH_REPLICAS,
            ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.CORRUPT_MESSAGE,
            ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.COORDINATOR_NOT_AVAILABLE,
            ErrorCode.REBALANCE_IN_PROGRESS, ErrorCode.FENCED_LEADER_EPOCH, ErrorCode.UNKNOWN_LEADER_EPOCH,
            ErrorCode.BROKER_NOT_AVAILABLE, ErrorCode.REPLICA_NOT_AVAILABLE, ErrorCode.NOT_CONTROLLER,
            ErrorCode.OFFSET_NOT_AVAILABLE, ErrorCode.STORAGE_ERROR, ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE,
            ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE);

    /** Codes after which the client's view of partition leaders is stale. */
    static final Set<ErrorCode> REFRESH_METADATA = Set.of(ErrorCode.NOT_LEADER_OR_FOLLOWER,
            ErrorCode.LEADER_NOT_AVAILABLE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.FENCED_LEADER_EPOCH,
            ErrorCode.UNKNOWN_LEADER_EPOCH, ErrorCode.NETWORK_EXCEPTION, ErrorCode.REQUEST_TIMED_OUT,
            ErrorCode.BROKER_NOT_AVAILABLE, ErrorCode.REPLICA_NOT_AVAILABLE, ErrorCode.STORAGE_ERROR);

    /** Codes after which the group's coordinator must be looked up again. */
    static final Set<ErrorCode> REFIND_COORDINATOR = Set.of(ErrorCode.NOT_COORDINATOR,
            ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.NETWORK_EXCEPTION, ErrorCode.REQUEST_TIMED_OUT);

    private static final Map<ErrorCode, BiFunction<ErrorCode, String, RaftmqException>> TABLE =
            new EnumMap<>(ErrorCode.class);

    static {
        TABLE.put(ErrorCode.NOT_LEADER_OR_FOLLOWER, NotLeaderException::new);
        TABLE.put(ErrorCode.FENCED_LEADER_EPOCH, NotLeaderException::new);
        TABLE.put(ErrorCode.UNKNOWN_LEADER_EPOCH, NotLeaderException::new);
        TABLE.put(ErrorCode.LEADER_NOT_AVAILABLE, LeaderNotAvailableException::new);
        TABLE.put(ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, LeaderNotAvailableException::new);
        TABLE.put(ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, LeaderNotAvailableException::new);
        TABLE.put(ErrorCode.ELECTION_NOT_NEEDED, ElectionNotNeededException::new);
        TABLE.put(ErrorCode.REQUEST_TIMED_OUT, TimeoutException::new);
        TABLE.put(ErrorCode.NETWORK_EXCEPTION, NetworkException::new);
        TABLE.put(ErrorCode.BROKER_NOT_AVAILABLE, NetworkException::new);
        TABLE.put(ErrorCode.NOT_ENOUGH_REPLICAS, NotEnoughReplicasException::new);
        TABLE.put(ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND, NotEnoughReplicasException::new);
        TABLE.put(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, UnknownTopicException::new);
        TABLE.put(ErrorCode.UNKNOWN_TOPIC_ID, UnknownTopicException::new);
        TABLE.put(ErrorCode.CORRUPT_MESSAGE, CorruptRecordException::new);
        TABLE.put(ErrorCode.INVALID_RECORD, CorruptRecordException::new);
        TABLE.put(ErrorCode.NOT_COORDINATOR, NotCoordinatorException::new);
        TABLE.put(ErrorCode.COORDINATOR_NOT_AVAILABLE, NotCoordinatorException::new);
        TABLE.put(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, NotCoordinatorException::new);
        TABLE.put(ErrorCode.REBALANCE_IN_PROGRESS, RebalanceInProgressException::new);
        TABLE.put(ErrorCode.RECORD_TOO_LARGE, RecordTooLargeException::new);
        TABLE.put(ErrorCode.RECORD_LIST_TOO_LARGE, RecordTooLargeException::new);
        TABLE.put(ErrorCode.INVALID_TOPIC, InvalidTopicException::new);
        TABLE.put(ErrorCode.TOPIC_ALREADY_EXISTS, TopicExistsException::new);
        TABLE.put(ErrorCode.INVALID_PARTITIONS, InvalidPartitionsException::new);
        TABLE.put(ErrorCode.INVALID_REPLICATION_FACTOR, InvalidReplicationFactorException::new);
        TABLE.put(ErrorCode.INVALID_REPLICA_ASSIGNMENT, InvalidReplicationFactorException::new);
        TABLE.put(ErrorCode.INVALID_CONFIG, InvalidConfigException::new);
        TABLE.put(ErrorCode.OFFSET_OUT_OF_RANGE, OffsetOutOfRangeException::new);
        TABLE.put(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, OutOfOrderSequenceException::new);
        TABLE.put(ErrorCode.INVALID_PRODUCER_EPOCH, InvalidProducerEpochException::new);
        TABLE.put(ErrorCode.UNKNOWN_PRODUCER_ID, UnknownProducerIdException::new);
        TABLE.put(ErrorCode.ILLEGAL_GENERATION, CommitFailedException::new);
        TABLE.put(ErrorCode.UNKNOWN_MEMBER_ID, CommitFailedException::new);
        TABLE.put(ErrorCode.NON_EMPTY_GROUP, GroupNotEmptyException::new);
        TABLE.put(ErrorCode.GROUP_ID_NOT_FOUND, GroupIdNotFoundException::new);
        TABLE.put(ErrorCode.TOPIC_AUTHORIZATION_FAILED, TopicAuthorizationException::new);
        TABLE.put(ErrorCode.GROUP_AUTHORIZATION_FAILED, GroupAuthorizationException::new);
        TABLE.put(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, ClusterAuthorizationException::new);
        TABLE.put(ErrorCode.SASL_AUTHENTICATION_FAILED, SaslAuthenticationException::new);
        TABLE.put(ErrorCode.UNSUPPORTED_SASL_MECHANISM, SaslAuthenticationException::new);
    }

    private Errors() {
    }

    static boolean isRetriable(ErrorCode code) {
        return RETRIABLE.contains(code);
    }

    /** The exception for a wire error; never called with NONE. */
    static RaftmqException exception(ErrorCode code, String message) {
        String text = message == null || message.isEmpty() ? code.name() : message;
        BiFunction<ErrorCode, String, RaftmqException> factory = TABLE.get(code);
        if (factory != null) {
            return factory.apply(code, text);
        }
        return RETRIABLE.contains(code) ? new RetriableException(code, text) : new RaftmqException(code, text);
    }

    static RaftmqException exception(Error error) {
        return exception(error.getCode(), error.getMessage());
    }

    /** The code a transport failure counts as. */
    static ErrorCode codeOf(Throwable t) {
        Throwable cause = Failures.unwrap(t);
        if (cause instanceof RaftmqException r) {
            return r.code();
        }
        if (cause instanceof StatusRuntimeException s) {
            return switch (s.getStatus().getCode()) {
                case DEADLINE_EXCEEDED -> ErrorCode.REQUEST_TIMED_OUT;
                case UNAVAILABLE, CANCELLED, ABORTED, UNKNOWN, INTERNAL -> ErrorCode.NETWORK_EXCEPTION;
                case UNIMPLEMENTED -> ErrorCode.UNSUPPORTED_VERSION;
                case RESOURCE_EXHAUSTED -> ErrorCode.RECORD_LIST_TOO_LARGE;
                case INVALID_ARGUMENT -> ErrorCode.INVALID_REQUEST;
                // A SASL port's refusal: a token it does not know (expired, or issued before the
                // broker restarted) is retriable, the session is authenticated again first; a call
                // without a token is a client without SASL settings.
                case UNAUTHENTICATED -> SaslSessionHeaders.isUnknownSession(s) ? ErrorCode.NETWORK_EXCEPTION
                        : ErrorCode.SASL_AUTHENTICATION_FAILED;
                default -> ErrorCode.UNKNOWN_SERVER_ERROR;
            };
        }
        return ErrorCode.UNKNOWN_SERVER_ERROR;
    }

    /** A transport failure (or any throwable from a call) as a typed exception. */
    static RaftmqException fromThrowable(Throwable t) {
        Throwable cause = Failures.unwrap(t);
        if (cause instanceof RaftmqException r) {
            return r;
        }
        if (cause instanceof StatusRuntimeException && cause.getCause() instanceof RaftmqException r) {
            return r; // failed in the client before it was sent (SaslSession's credentials)
        }
        SSLException handshake = sslFailure(cause);
        if (handshake != null) {
            return new SslAuthenticationException("TLS handshake with a broker failed: " + handshake.getMessage()
                    + " (does ssl.truststore.location hold the CA that signed the brokers' certificates, and do they"
                    + " name the host dialled? does the broker trust ssl.keystore.location's certificate?)", cause);
        }
        ErrorCode code = codeOf(cause);
        String message;
        if (cause instanceof StatusRuntimeException s) {
            Status status = s.getStatus();
            message = status.getCode() + (status.getDescription() == null ? "" : ": " + status.getDescription());
        } else {
            message = String.valueOf(cause);
        }
        RaftmqException e = exception(code, message);
        e.initCause(cause);
        return e;
    }

    /** The TLS failure among {@code t}'s causes (a failed handshake under a gRPC UNAVAILABLE), or null. */
    private static SSLException sslFailure(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof SSLException ssl) {
                return ssl;
            }
        }
        return null;
    }
}
