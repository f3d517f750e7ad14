package io.raftmq.cli;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.raftmq.client.RaftmqException;
import io.raftmq.client.TopicPartition;
import io.raftmq.protocol.broker.BrokerGrpc;
import io.raftmq.protocol.broker.BrokerInfo;
import io.raftmq.protocol.broker.DeleteGroupsRequest;
import io.raftmq.protocol.broker.DescribeGroupsRequest;
import io.raftmq.protocol.broker.DescribedGroup;
import io.raftmq.protocol.broker.DescribedGroupMember;
import io.raftmq.protocol.broker.FindCoordinatorRequest;
import io.raftmq.protocol.broker.FindCoordinatorResponse;
import io.raftmq.protocol.broker.GroupCoordinatorGrpc;
import io.raftmq.protocol.broker.ListGroupsRequest;
import io.raftmq.protocol.broker.ListOffsetsPartition;
import io.raftmq.protocol.broker.ListOffsetsPartitionResponse;
import io.raftmq.protocol.broker.ListOffsetsRequest;
import io.raftmq.protocol.broker.ListOffsetsTopic;
import io.raftmq.protocol.broker.ListOffsetsTopicResponse;
import io.raftmq.protocol.broker.ListedGroup;
import io.raftmq.protocol.broker.MetadataRequest;
import io.raftmq.protocol.broker.MetadataResponse;
import io.raftmq.protocol.broker.OffsetFetchPartitionResponse;
import io.raftmq.protocol.broker.OffsetFetchRequest;
import io.raftmq.protocol.broker.OffsetFetchTopicResponse;
import io.raftmq.protocol.broker.PartitionMetadata;
import io.raftmq.protocol.broker.TopicMetadata;
import io.raftmq.protocol.broker.TopicPartitions;
import io.raftmq.protocol.common.ConfigEntry;
import io.raftmq.protocol.common.Endpoint;
import io.raftmq.protocol.common.Error;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.common.Uuid;
import io.raftmq.protocol.controller.BrokerDescription;
import io.raftmq.protocol.controller.ControllerGrpc;
import io.raftmq.protocol.controller.CreatableTopic;
import io.raftmq.protocol.controller.CreatableTopicResult;
import io.raftmq.protocol.controller.CreatePartitionsRequest;
import io.raftmq.protocol.controller.CreatePartitionsTopic;
import io.raftmq.protocol.controller.CreatePartitionsTopicResult;
import io.raftmq.protocol.controller.CreateTopicsRequest;
import io.raftmq.protocol.controller.CreateTopicsResponse;
import io.raftmq.protocol.controller.DeletableTopicResult;
import io.raftmq.protocol.controller.DeleteTopicsRequest;
import io.raftmq.protocol.controller.DeleteTopicsResponse;
import io.raftmq.protocol.controller.DescribeClusterRequest;
import io.raftmq.protocol.controller.DescribeClusterResponse;
import io.raftmq.protocol.controller.DescribeTopicsRequest;
import io.raftmq.protocol.controller.DescribeTopicsResponse;
import io.raftmq.protocol.controller.PartitionState;
import io.raftmq.protocol.controller.TopicDescription;
import io.raftmq.protocol.controller.VoterDescription;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The admin requests the commands make, answered as {@link Views}. Each request goes to the first
 * bootstrap broker that answers (a broker forwards topic administration to the active controller);
 * group requests go to the group's coordinator, offset lookups to partition leaders. A broker error
 * becomes a {@link RaftmqException} with the broker's code and message.
 *
 * <p>Until the SDK's Admin covers these calls, the CLI speaks the Broker and GroupCoordinator gRPC
 * services itself. Used by one command thread; not thread-safe.
 */
final class AdminCalls implements AutoCloseable {
    private static final long TIMEOUT_MS = 30_000;

    private final List<String> bootstrap = new ArrayList<>();
    private final Map<String, ManagedChannel> channels = new HashMap<>();

    AdminCalls(String bootstrapServers) {
        for (String s : bootstrapServers.split(",")) {
            String a = s.trim();
            if (!a.isEmpty()) {
                hostPort(a);
                bootstrap.add(a);
            }
        }
        if (bootstrap.isEmpty()) {
            throw new CliException("--bootstrap-server is empty");
        }
    }

    // ---- topics ----

    void createTopic(String name, int partitions, int replicationFactor, Map<String, String> configs) {
        CreatableTopic.Builder t = CreatableTopic.newBuilder().setName(name);
        if (partitions >= 0) {
            t.setNumPartitions(partitions);
        }
        if (replicationFactor >= 0) {
            t.setReplicationFactor(replicationFactor);
        }
        configs.forEach((k, v) -> t.addConfigs(ConfigEntry.newBuilder().setKey(k).setValue(v)));
        CreateTopicsResponse r = anyBroker(b -> b.createTopics(CreateTopicsRequest.newBuilder().addTopics(t).build()));
        check(r.getError());
        for (CreatableTopicResult result : r.getTopicsList()) {
            check(result.getError());
        }
    }

    List<String> listTopics() {
        MetadataResponse r = anyBroker(b -> b.metadata(MetadataRequest.getDefaultInstance()));
        check(r.getError());
        return new ArrayList<>(new TreeSet<>(r.getTopicsList().stream().map(TopicMetadata::getName).toList()));
    }

    /** Every topic when {@code names} is empty, sorted by name; an unknown name is an error. */
    List<Views.Topic> describeTopics(Collection<String> names) {
        DescribeTopicsRequest request = DescribeTopicsRequest.newBuilder().addAllNames(names).build();
        DescribeTopicsResponse r;
        try {
            r = anyBroker(b -> b.describeTopics(request));
        } catch (RaftmqException e) {
            if (e.code() != ErrorCode.UNSUPPORTED_VERSION) {
                throw e;
            }
            // Brokers that predate Broker.DescribeTopics: every controller voter answers it from its
            // applied metadata (combined nodes host both services on one port).
            r = anyNode(ch -> ControllerGrpc.newBlockingStub(ch).withDeadlineAfter(TIMEOUT_MS, TimeUnit.MILLISECONDS)
                    .describeTopics(request));
        }
        check(r.getError());
        List<Views.Topic> out = new ArrayList<>();
        for (TopicDescription t : r.getTopicsList()) {
            check(t.getError());
            Map<String, String> configs = new TreeMap<>();
            for (ConfigEntry e : t.getConfigsList()) {
                configs.put(e.getKey(), e.getValue());
            }
            List<Views.Partition> partitions = new ArrayList<>();
            for (PartitionState p : t.getPartitionsList()) {
                partitions.add(new Views.Partition(p.getPartitionId(), p.getLeader(), p.getLeaderEpoch(),
                        p.getReplicasList(), p.getIsrList()));
            }
            partitions.sort(Comparator.comparingInt(Views.Partition::partition));
            out.add(new Views.Topic(t.getName(), topicId(t.getTopicId()), configs, partitions));
        }
        out.sort(Comparator.comparing(Views.Topic::name));
        return out;
    }

    void addPartitions(String name, int totalCount) {
        var r = anyBroker(b -> b.createPartitions(CreatePartitionsRequest.newBuilder()
                .addTopics(CreatePartitionsTopic.newBuilder().setName(name).setCount(totalCount)).build()));
        check(r.getError());
        for (CreatePartitionsTopicResult result : r.getTopicsList()) {
            check(result.getError());
        }
    }

    void deleteTopic(String name) {
        DeleteTopicsResponse r = anyBroker(b -> b.deleteTopics(DeleteTopicsRequest.newBuilder().addNames(name).build()));
        check(r.getError());
        for (DeletableTopicResult result : r.getTopicsList()) {
            check(result.getError());
        }
    }

    // ---- cluster ----

    Views.Cluster describeCluster() {
        DescribeClusterResponse r = anyBroker(b -> b.describeCluster(DescribeClusterRequest.getDefaultInstance()));
        check(r.getError());
        List<Views.Voter> voters = new ArrayList<>();
        for (VoterDescription v : r.getVotersList()) {
            voters.add(new Views.Voter(v.getNodeId(), v.getRaftHost() + ":" + v.getRaftPort(), v.getIsLeader()));
        }
        voters.sort(Comparator.comparingInt(Views.Voter::id));
        List<Views.Broker> brokers = new ArrayList<>();
        for (BrokerDescription d : r.getBrokersList()) {
            List<String> endpoints = new ArrayList<>();
            for (Endpoint e : d.getEndpointsList()) {
                endpoints.add(e.getHost() + ":" + e.getPort());
            }
            brokers.add(new Views.Broker(d.getBrokerId(), d.getState().name(), String.join(",", endpoints), d.getRack()));
        }
        brokers.sort(Comparator.comparingInt(Views.Broker::id));
        int controller = r.hasController() ? r.getController().getControllerId() : -1;
        return new Views.Cluster(controller, r.getControllerEpoch(), voters, brokers);
    }

    /** The partition's leader as the first answering broker's metadata has it (-1: none). */
    int leaderOf(String topic, int partition) {
        MetadataResponse r = anyBroker(b -> b.metadata(MetadataRequest.newBuilder().addTopics(topic).build()));
        check(r.getError());
        for (TopicMetadata t : r.getTopicsList()) {
            check(t.getError());
            for (PartitionMetadata p : t.getPartitionsList()) {
                if (p.getPartition() == partition) {
                    return p.getLeader();
                }
            }
        }
        throw new RaftmqException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "no partition " + topic + "-" + partition);
    }

    // ---- offsets ----

    /** The log-end offsets (high watermarks) of the partitions, asked of each partition's leader. */
    Map<TopicPartition, Long> endOffsets(Collection<TopicPartition> partitions) {
        Map<String, List<Integer>> byTopic = new TreeMap<>();
        for (TopicPartition tp : partitions) {
            byTopic.computeIfAbsent(tp.topic(), k -> new ArrayList<>()).add(tp.partition());
        }
        MetadataResponse md = anyBroker(b -> b.metadata(MetadataRequest.newBuilder().addAllTopics(byTopic.keySet())
                .build()));
        check(md.getError());
        Map<Integer, String> addresses = new HashMap<>();
        for (BrokerInfo b : md.getBrokersList()) {
            addresses.put(b.getBrokerId(), b.getHost() + ":" + b.getPort());
        }
        Map<String, Map<String, List<Integer>>> byLeader = new LinkedHashMap<>();
        Map<TopicPartition, Long> out = new LinkedHashMap<>();
        for (TopicMetadata t : md.getTopicsList()) {
            check(t.getError());
            for (PartitionMetadata p : t.getPartitionsList()) {
                if (!byTopic.getOrDefault(t.getName(), List.of()).contains(p.getPartition())) {
                    continue;
                }
                String address = addresses.get(p.getLeader());
                if (address == null) {
                    out.put(new TopicPartition(t.getName(), p.getPartition()), -1L);
                    continue;
                }
                byLeader.computeIfAbsent(address, k -> new TreeMap<>())
                        .computeIfAbsent(t.getName(), k -> new ArrayList<>()).add(p.getPartition());
            }
        }
        for (var leader : byLeader.entrySet()) {
            ListOffsetsRequest.Builder req = ListOffsetsRequest.newBuilder();
            leader.getValue().forEach((topic, ps) -> {
                ListOffsetsTopic.Builder t = ListOffsetsTopic.newBuilder().setName(topic);
                ps.forEach(p -> t.addPartitions(ListOffsetsPartition.newBuilder().setPartition(p).setTimestamp(-1)
                        .setCurrentLeaderEpoch(-1)));
                req.addTopics(t);
            });
            var r = call(leader.getKey(), ch -> BrokerGrpc.newBlockingStub(ch)
                    .withDeadlineAfter(TIMEOUT_MS, TimeUnit.MILLISECONDS).listOffsets(req.build()));
            check(r.getError());
            for (ListOffsetsTopicResponse t : r.getTopicsList()) {
                for (ListOffsetsPartitionResponse p : t.getPartitionsList()) {
                    out.put(new TopicPartition(t.getName(), p.getPartition()),
                            p.getError().getCode() == ErrorCode.NONE ? p.getOffset() : -1L);
                }
            }
        }
        return out;
    }

    // ---- groups ----

    /** Every group on every live broker (each coordinates a share), sorted by id. */
    List<Views.Group> listGroups() {
        MetadataResponse md = anyBroker(b -> b.metadata(MetadataRequest.newBuilder().addTopics("__consumer_offsets")
                .build()));
        Map<String, Views.Group> groups = new TreeMap<>();
        List<String> brokers = md.getBrokersList().isEmpty() ? bootstrap
                : md.getBrokersList().stream().map(b -> b.getHost() + ":" + b.getPort()).toList();
        for (String broker : brokers) {
            var r = call(broker, ch -> GroupCoordinatorGrpc.newBlockingStub(ch)
                    .withDeadlineAfter(TIMEOUT_MS, TimeUnit.MILLISECONDS).listGroups(ListGroupsRequest.getDefaultInstance()));
            check(r.getError());
            for (ListedGroup g : r.getGroupsList()) {
                groups.put(g.getGroupId(), new Views.Group(g.getGroupId(), g.getState(), List.of()));
            }
        }
        return new ArrayList<>(groups.values());
    }

    Views.Group describeGroup(String groupId) {
        String coordinator = coordinator(groupId);
        var r = call(coordinator, ch -> GroupCoordinatorGrpc.newBlockingStub(ch)
                .withDeadlineAfter(TIMEOUT_MS, TimeUnit.MILLISECONDS)
                .describeGroups(DescribeGroupsRequest.newBuilder().addGroupIds(groupId).build()));
        check(r.getError());
        for (DescribedGroup g : r.getGroupsList()) {
            check(g.getError());
            List<Views.Member> members = new ArrayList<>();
            for (DescribedGroupMember m : g.getMembersList()) {
                List<TopicPartition> assignment = new ArrayList<>();
                for (TopicPartitions tps : m.getAssignmentList()) {
                    for (int p : tps.getPartitionsList()) {
                        assignment.add(new TopicPartition(tps.getTopic(), p));
                    }
                }
                members.add(new Views.Member(m.getMemberId(), m.getClientId(), m.getClientHost(), assignment));
            }
            return new Views.Group(g.getGroupId(), g.getState(), members);
        }
        throw new RaftmqException(ErrorCode.GROUP_ID_NOT_FOUND, "group '" + groupId + "' does not exist");
    }

    /** The group's committed offsets (next offset to consume), by partition. */
    Map<TopicPartition, Long> committedOffsets(String groupId) {
        String coordinator = coordinator(groupId);
        var r = call(coordinator, ch -> GroupCoordinatorGrpc.newBlockingStub(ch)
                .withDeadlineAfter(TIMEOUT_MS, TimeUnit.MILLISECONDS)
                .offsetFetch(OffsetFetchRequest.newBuilder().setGroupId(groupId).build()));
        check(r.getError());
        Map<TopicPartition, Long> out = new TreeMap<>(Comparator.comparing(TopicPartition::topic)
                .thenComparingInt(TopicPartition::partition));
        for (OffsetFetchTopicResponse t : r.getTopicsList()) {
            for (OffsetFetchPartitionResponse p : t.getPartitionsList()) {
                check(p.getError());
                if (p.getCommittedOffset() >= 0) {
                    out.put(new TopicPartition(t.getName(), p.getPartition()), p.getCommittedOffset());
                }
            }
        }
        return out;
    }

    void deleteGroup(String groupId) {
        String coordinator = coordinator(groupId);
        var r = call(coordinator, ch -> GroupCoordinatorGrpc.newBlockingStub(ch)
                .withDeadlineAfter(TIMEOUT_MS, TimeUnit.MILLISECONDS)
                .deleteGroups(DeleteGroupsRequest.newBuilder().addGroupIds(groupId).build()));
        check(r.getError());
        r.getGroupsList().forEach(g -> check(g.getError()));
    }

    private String coordinator(String groupId) {
        FindCoordinatorResponse r = anyGroupCoordinator(g -> g.findCoordinator(FindCoordinatorRequest.newBuilder()
                .setGroupId(groupId).build()));
        check(r.getError());
        return r.getHost() + ":" + r.getPort();
    }

    // ---- plumbing ----

    private <T> T anyBroker(Function<BrokerGrpc.BrokerBlockingStub, T> request) {
        return anyNode(ch -> request.apply(BrokerGrpc.newBlockingStub(ch).withDeadlineAfter(TIMEOUT_MS,
                TimeUnit.MILLISECONDS)));
    }

    private <T> T anyGroupCoordinator(Function<GroupCoordinatorGrpc.GroupCoordinatorBlockingStub, T> request) {
        return anyNode(ch -> request.apply(GroupCoordinatorGrpc.newBlockingStub(ch).withDeadlineAfter(TIMEOUT_MS,
                TimeUnit.MILLISECONDS)));
    }

    /** Tries the bootstrap brokers in order; the next one only when a broker cannot be reached. */
    private <T> T anyNode(Function<ManagedChannel, T> request) {
        RaftmqException last = null;
        for (String address : bootstrap) {
            try {
                return call(address, request);
            } catch (RaftmqException e) {
                if (e.code() != ErrorCode.NETWORK_EXCEPTION) {
                    throw e;
                }
                last = e;
            }
        }
        throw new RaftmqException(ErrorCode.NETWORK_EXCEPTION, "no broker in " + String.join(",", bootstrap)
                + " could be reached (" + last.getMessage() + ")");
    }

    private <T> T call(String address, Function<ManagedChannel, T> request) {
        ManagedChannel channel = channels.computeIfAbsent(address, a -> {
            String[] hp = hostPort(a);
            return NettyChannelBuilder.forAddress(hp[0], Integer.parseInt(hp[1])).usePlaintext()
                    .maxInboundMessageSize(64 << 20).build();
        });
        try {
            return request.apply(channel);
        } catch (StatusRuntimeException e) {
            Status.Code code = e.getStatus().getCode();
            if (code == Status.Code.UNAVAILABLE) {
                throw new RaftmqException(ErrorCode.NETWORK_EXCEPTION, address + " is not reachable");
            }
            if (code == Status.Code.DEADLINE_EXCEEDED) {
                throw new RaftmqException(ErrorCode.REQUEST_TIMED_OUT, address + " did not answer within "
                        + TIMEOUT_MS + " ms");
            }
            if (code == Status.Code.UNIMPLEMENTED) {
                throw new RaftmqException(ErrorCode.UNSUPPORTED_VERSION, address + " does not serve this request ("
                        + e.getStatus().getDescription() + ")");
            }
            throw new RaftmqException(ErrorCode.UNKNOWN_SERVER_ERROR, address + ": " + e.getStatus());
        }
    }

    private static String[] hostPort(String address) {
        int colon = address.lastIndexOf(':');
        if (colon <= 0 || colon == address.length() - 1) {
            throw new CliException("invalid broker address '" + address + "': expected HOST:PORT");
        }
        try {
            Integer.parseInt(address.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new CliException("invalid port in broker address '" + address + "'");
        }
        return new String[] {address.substring(0, colon), address.substring(colon + 1)};
    }

    private static void check(Error error) {
        if (error.getCode() != ErrorCode.NONE && error.getCode() != ErrorCode.UNRECOGNIZED) {
            throw new RaftmqException(error.getCode(), error.getMessage().isEmpty() ? error.getCode().name()
                    : error.getMessage());
        }
    }

    /** Kafka prints topic ids as URL-safe base64 of the 16 bytes, without padding. */
    private static String topicId(Uuid id) {
        ByteBuffer b = ByteBuffer.allocate(16).putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits());
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
    }

    @Override
    public void close() {
        for (ManagedChannel c : channels.values()) {
            c.shutdownNow();
        }
        for (ManagedChannel c : channels.values()) {
            try {
                c.awaitTermination(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
