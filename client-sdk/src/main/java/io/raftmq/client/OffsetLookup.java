package io.raftmq.client;

import io.raftmq.client.errors.InterruptException;
import io.raftmq.client.errors.LeaderNotAvailableException;
import io.raftmq.client.errors.RaftmqException;
import io.raftmq.client.errors.TimeoutException;
import io.raftmq.client.errors.UnknownTopicException;
import io.raftmq.protocol.broker.ListOffsetsPartition;
import io.raftmq.protocol.broker.ListOffsetsPartitionResponse;
import io.raftmq.protocol.broker.ListOffsetsRequest;
import io.raftmq.protocol.broker.ListOffsetsResponse;
import io.raftmq.protocol.broker.ListOffsetsTopic;
import io.raftmq.protocol.broker.ListOffsetsTopicResponse;
import io.raftmq.protocol.common.ErrorCode;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;

/**
 * ListOffsets for many partitions: one request per leader broker, retrying partitions whose leader
 * moved (after a metadata refresh) until the deadline. Any thread (one call at a time per caller).
 */
final class OffsetLookup {
    static final long LATEST = -1;
    static final long EARLIEST = -2;

    private final ClusterMetadata metadata;
    private final BrokerChannels channels;
    private final long requestTimeoutMs;
    private final long retryBackoffMs;
    private final Rpc rpc;

    OffsetLookup(ClusterMetadata metadata, BrokerChannels channels, Rpc rpc, long requestTimeoutMs,
            long retryBackoffMs) {
        this.metadata = metadata;
        this.channels = channels;
        this.rpc = rpc;
        this.requestTimeoutMs = requestTimeoutMs;
        this.retryBackoffMs = retryBackoffMs;
    }

    /**
     * @param specs per partition: {@link #LATEST}, {@link #EARLIEST} or a timestamp in ms
     * @return per partition the offset (-1 when no record is at or after a timestamp)
     */
    Map<TopicPartition, Long> list(Map<TopicPartition, Long> specs, long deadlineMs) {
        Map<TopicPartition, Long> result = new HashMap<>();
        Map<TopicPartition, Long> pending = new LinkedHashMap<>(specs);
        RaftmqException last = null;
        while (!pending.isEmpty()) {
            for (TopicPartition tp : pending.keySet()) {
                metadata.addTopics(java.util.List.of(tp.topic()));
            }
            MetadataSnapshot snapshot = metadata.maybeRefresh(deadlineMs);
            Map<BrokerAddress, Map<TopicPartition, Long>> byLeader = new HashMap<>();
            for (Map.Entry<TopicPartition, Long> e : pending.entrySet()) {
                if (snapshot.partitionCount(e.getKey().topic()) > 0
                        && snapshot.partitionCount(e.getKey().topic()) <= e.getKey().partition()) {
                    throw new UnknownTopicException("topic '" + e.getKey().topic() + "' has no partition "
                            + e.getKey().partition());
                }
                BrokerAddress leader = snapshot.leaderAddress(e.getKey());
                if (leader == null) {
                    metadata.requestUpdate();
                    last = new LeaderNotAvailableException("no leader known for " + e.getKey());
                    continue;
                }
                byLeader.computeIfAbsent(leader, k -> new LinkedHashMap<>()).put(e.getKey(), e.getValue());
            }
            for (Map.Entry<BrokerAddress, Map<TopicPartition, Long>> e : byLeader.entrySet()) {
                Map<String, ListOffsetsTopic.Builder> topics = new LinkedHashMap<>();
                e.getValue().forEach((tp, ts) -> topics.computeIfAbsent(tp.topic(),
                        n -> ListOffsetsTopic.newBuilder().setName(n)).addPartitions(ListOffsetsPartition.newBuilder()
                                .setPartition(tp.partition()).setTimestamp(ts).setCurrentLeaderEpoch(-1)));
                ListOffsetsRequest.Builder request = ListOffsetsRequest.newBuilder();
                topics.values().forEach(request::addTopics);
                try {
                    long timeout = Math.max(1, Math.min(requestTimeoutMs, deadlineMs - rpc.now()));
                    ListOffsetsResponse response = Rpc.awaitAnswer(
                            channels.broker(e.getKey(), timeout).listOffsets(request.build()), timeout);
                    if (response.getError().getCode() != ErrorCode.NONE) {
                        throw Errors.exception(response.getError());
                    }
                    for (ListOffsetsTopicResponse t : response.getTopicsList()) {
                        for (ListOffsetsPartitionResponse p : t.getPartitionsList()) {
                            TopicPartition tp = new TopicPartition(t.getName(), p.getPartition());
                            ErrorCode code = p.getError().getCode();
                            if (code == ErrorCode.NONE) {
                                result.put(tp, p.getOffset());
                                pending.remove(tp);
                            } else if (Errors.isRetriable(code)) {
                                metadata.requestUpdate();
                                last = Errors.exception(p.getError());
                            } else {
                                throw Errors.exception(p.getError());
                            }
                        }
                    }
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new InterruptException(ErrorCode.NONE, "interrupted while listing offsets", ie);
                } catch (ExecutionException | java.util.concurrent.TimeoutException | RuntimeException ex) {
                    RaftmqException typed = Errors.fromThrowable(ex);
                    if (!typed.isRetriable()) {
                        throw typed;
                    }
                    metadata.requestUpdate();
                    last = typed;
                }
            }
            if (!pending.isEmpty()) {
                if (rpc.now() + retryBackoffMs >= deadlineMs) {
                    throw new TimeoutException(ErrorCode.REQUEST_TIMED_OUT, "listing offsets of " + pending.keySet()
                            + " did not succeed in time" + (last == null ? "" : "; last error: " + last.getMessage()));
                }
                Rpc.sleep(retryBackoffMs);
            }
        }
        return result;
    }
}
