package io.raftmq.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.raftmq.client.errors.ClusterAuthorizationException;
import io.raftmq.client.errors.CommitFailedException;
import io.raftmq.client.errors.CorruptRecordException;
import io.raftmq.client.errors.ElectionNotNeededException;
import io.raftmq.client.errors.GroupAuthorizationException;
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
import io.raftmq.client.errors.TimeoutException;
import io.raftmq.client.errors.TopicAuthorizationException;
import io.raftmq.client.errors.TopicExistsException;
import io.raftmq.client.errors.UnknownTopicException;
import io.raftmq.protocol.common.ErrorCode;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The ErrorCode -> exception table and transport failure mapping. */
class ErrorsTest {
    @Test
    void eachCodeMapsToItsTypeWithCodeAndMessage() {
        Map<ErrorCode, Class<? extends RaftmqException>> expected = Map.ofEntries(
                Map.entry(ErrorCode.NOT_LEADER_OR_FOLLOWER, NotLeaderException.class),
                Map.entry(ErrorCode.FENCED_LEADER_EPOCH, NotLeaderException.class),
                Map.entry(ErrorCode.REQUEST_TIMED_OUT, TimeoutException.class),
                Map.entry(ErrorCode.RECORD_TOO_LARGE, RecordTooLargeException.class),
                Map.entry(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, UnknownTopicException.class),
                Map.entry(ErrorCode.INVALID_TOPIC, InvalidTopicException.class),
                Map.entry(ErrorCode.TOPIC_ALREADY_EXISTS, TopicExistsException.class),
                Map.entry(ErrorCode.INVALID_PARTITIONS, InvalidPartitionsException.class),
                Map.entry(ErrorCode.INVALID_REPLICATION_FACTOR, InvalidReplicationFactorException.class),
                Map.entry(ErrorCode.NOT_ENOUGH_REPLICAS, NotEnoughReplicasException.class),
                Map.entry(ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND, NotEnoughReplicasException.class),
                Map.entry(ErrorCode.OFFSET_OUT_OF_RANGE, OffsetOutOfRangeException.class),
                Map.entry(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, OutOfOrderSequenceException.class),
                Map.entry(ErrorCode.INVALID_PRODUCER_EPOCH, InvalidProducerEpochException.class),
                Map.entry(ErrorCode.ILLEGAL_GENERATION, CommitFailedException.class),
                Map.entry(ErrorCode.REBALANCE_IN_PROGRESS, RebalanceInProgressException.class),
                Map.entry(ErrorCode.CORRUPT_MESSAGE, CorruptRecordException.class),
                Map.entry(ErrorCode.NOT_COORDINATOR, NotCoordinatorException.class),
                Map.entry(ErrorCode.INVALID_CONFIG, InvalidConfigException.class),
                Map.entry(ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, LeaderNotAvailableException.class),
                Map.entry(ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, LeaderNotAvailableException.class),
                Map.entry(ErrorCode.ELECTION_NOT_NEEDED, ElectionNotNeededException.class),
                Map.entry(ErrorCode.TOPIC_AUTHORIZATION_FAILED, TopicAuthorizationException.class),
                Map.entry(ErrorCode.GROUP_AUTHORIZATION_FAILED, GroupAuthorizationException.class),
                Map.entry(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, ClusterAuthorizationException.class));
        expected.forEach((code, type) -> {
            RaftmqException e = Errors.exception(code, "broker says " + code);
            assertInstanceOf(type, e, code.name());
            assertEquals(code, e.code());
            assertEquals("broker says " + code, e.getMessage());
        });
    }

    @Test
    void retriableOnesAreMarked() {
        assertTrue(Errors.exception(ErrorCode.NOT_LEADER_OR_FOLLOWER, "x").isRetriable());
        assertTrue(Errors.exception(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, "x").isRetriable());
        assertTrue(Errors.exception(ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND, "x").isRetriable(),
                "as in Kafka: the records may or may not commit, and an idempotent retry is deduplicated");
        assertTrue(Errors.exception(ErrorCode.NOT_CONTROLLER, "x") instanceof RetriableException);
        assertFalse(Errors.exception(ErrorCode.TOPIC_ALREADY_EXISTS, "x").isRetriable());
        assertTrue(Errors.isRetriable(ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE), "as Kafka's InvalidMetadataException");
        assertFalse(Errors.exception(ErrorCode.ELECTION_NOT_NEEDED, "x").isRetriable(), "nothing to retry");
        assertFalse(Errors.exception(ErrorCode.INVALID_REQUEST, "x").isRetriable());
        assertFalse(Errors.exception(ErrorCode.TOPIC_AUTHORIZATION_FAILED, "x").isRetriable(), "until the ACLs change");
        assertEquals(RaftmqException.class, Errors.exception(ErrorCode.INVALID_REQUEST, "x").getClass());
    }

    @Test
    void transportFailuresAreRetriable() {
        RaftmqException unavailable = Errors.fromThrowable(Status.UNAVAILABLE.withDescription("down").asRuntimeException());
        assertInstanceOf(NetworkException.class, unavailable);
        assertTrue(unavailable.isRetriable());
        RaftmqException deadline = Errors.fromThrowable(Status.DEADLINE_EXCEEDED.asRuntimeException());
        assertInstanceOf(TimeoutException.class, deadline);
        assertEquals(ErrorCode.UNSUPPORTED_VERSION,
                Errors.fromThrowable(Status.UNIMPLEMENTED.asRuntimeException()).code());
    }
}
