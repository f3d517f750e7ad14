package io.raftmq.cli;

import io.raftmq.client.Acl;
import io.raftmq.client.Admin;
import io.raftmq.client.AdminConfig;
import io.raftmq.client.Consumer;
import io.raftmq.client.ConsumerConfig;
import io.raftmq.client.NewTopic;
import io.raftmq.client.OffsetAndMetadata;
import io.raftmq.client.Serdes;
import io.raftmq.client.TopicPartition;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

/**
 * The admin requests the commands make, through the SDK's {@link Admin}, answered as {@link Views}
 * (the fields the Kafka-style layouts print). Errors are the SDK's typed exceptions with the
 * broker's message. Used by one command thread.
 */
final class AdminCalls implements AutoCloseable {
    /** A command gives up on an unreachable cluster after this long (the SDK's default is 60 s). */
    private static final String API_TIMEOUT_MS = "30000";

    private final String bootstrapServers;
    private final Admin admin;

    /** @param clientSettings further client settings (--command-config: TLS) */
    AdminCalls(String bootstrapServers, Map<String, String> clientSettings) {
        this.bootstrapServers = bootstrapServers;
        Properties p = new Properties();
        p.putAll(clientSettings);
        p.put(AdminConfig.BOOTSTRAP_SERVERS, bootstrapServers);
        p.put(AdminConfig.CLIENT_ID, "raftmq-cli");
        p.put(AdminConfig.DEFAULT_API_TIMEOUT_MS, API_TIMEOUT_MS);
        this.admin = new Admin(p);
    }

    // ---- ACLs ----

    void createAcls(List<Acl> acls) {
        admin.createAcls(acls);
    }

    List<Acl> describeAcls(Acl.Filter filter) {
        return admin.describeAcls(filter);
    }

    List<Acl> deleteAcls(Acl.Filter filter) {
        return admin.deleteAcls(filter);
    }

    // ---- topics ----

    /** -1 partitions or replication factor: the cluster's default. */
    void createTopic(String name, int partitions, int replicationFactor, Map<String, String> configs) {
        admin.createTopic(new NewTopic(name, partitions, replicationFactor, configs));
    }

    List<String> listTopics(boolean includeInternal) {
        return admin.listTopics(includeInternal);
    }

    /** Every topic when {@code names} is empty, sorted by name; an unknown name is an error. */
    List<Views.Topic> describeTopics(Collection<String> names) {
        List<Views.Topic> out = new ArrayList<>();
        for (Admin.TopicInfo t : admin.describeTopics(names).values()) {
            List<Views.Partition> partitions = new ArrayList<>();
            for (Admin.PartitionDescription p : t.partitions()) {
                partitions.add(new Views.Partition(p.partition(), p.leader(), p.leaderEpoch(), p.replicas(), p.isr()));
            }
            partitions.sort(Comparator.comparingInt(Views.Partition::partition));
            out.add(new Views.Topic(t.name(), topicId(t.topicId()), new java.util.TreeMap<>(t.configs()), partitions));
        }
        out.sort(Comparator.comparing(Views.Topic::name));
        return out;
    }

    /**
     * Every partition of {@code topic}, asked of {@code bootstrapServers}: how the console and perf
     * tools check their topic before they start, so that one that does not exist is said at once.
     *
     * @throws CliException naming the topic when it does not exist
     */
    static List<TopicPartition> partitionsOf(String bootstrapServers, Map<String, String> clientSettings,
            String topic) {
        try (AdminCalls admin = new AdminCalls(bootstrapServers, clientSettings)) {
            return admin.partitionsOf(topic);
        }
    }

    /** Every partition of the topic. */
    List<TopicPartition> partitionsOf(String topic) {
        List<TopicPartition> out = new ArrayList<>();
        for (Views.Partition p : describeTopics(List.of(topic)).get(0).partitions()) {
            out.add(new TopicPartition(topic, p.partition()));
        }
        return out;
    }

    void addPartitions(String name, int totalCount) {
        admin.createPartitions(Map.of(name, totalCount));
    }

    void deleteTopic(String name) {
        admin.deleteTopics(List.of(name));
    }

    // ---- cluster ----

    Views.Cluster describeCluster() {
        Admin.ClusterInfo c = admin.describeCluster();
        List<Views.Voter> voters = new ArrayList<>();
        for (Admin.Voter v : c.voters()) {
            voters.add(new Views.Voter(v.nodeId(), v.raftHost() + ":" + v.raftPort(), v.leader()));
        }
        voters.sort(Comparator.comparingInt(Views.Voter::id));
        List<Views.Broker> brokers = new ArrayList<>();
        for (Admin.BrokerNode b : c.brokers()) {
            List<String> endpoints = new ArrayList<>();
            for (Admin.BrokerEndpoint e : b.endpoints()) {
                endpoints.add(e.listener() + " " + e.host() + ":" + e.port());
            }
            brokers.add(new Views.Broker(b.id(), b.state(), String.join(", ", endpoints), b.rack()));
        }
        brokers.sort(Comparator.comparingInt(Views.Broker::id));
        return new Views.Cluster(c.clusterId(), c.controllerId(), c.controllerEpoch(), voters, brokers);
    }

    // ---- groups ----

    List<Views.Group> listGroups() {
        List<Views.Group> out = new ArrayList<>();
        for (Admin.GroupListing g : admin.listGroups()) {
            out.add(new Views.Group(g.groupId(), g.state(), List.of()));
        }
        return out;
    }

    Views.Group describeGroup(String groupId) {
        Admin.GroupDescription g = admin.describeGroups(List.of(groupId)).get(groupId);
        if (g == null) {
            throw new CliException("group '" + groupId + "' does not exist");
        }
        List<Views.Member> members = new ArrayList<>();
        for (Admin.MemberDescription m : g.members()) {
            members.add(new Views.Member(m.memberId(), m.clientId(), m.clientHost(), m.assignment()));
        }
        return new Views.Group(g.groupId(), g.state(), members);
    }

    /** The group's committed offsets (the next offset to consume), by partition. */
    Map<TopicPartition, Long> committedOffsets(String groupId) {
        Map<TopicPartition, Long> out = new LinkedHashMap<>();
        for (Map.Entry<TopicPartition, OffsetAndMetadata> e : admin.listConsumerGroupOffsets(groupId).entrySet()) {
            out.put(e.getKey(), e.getValue().offset());
        }
        return out;
    }

    /** The log-end offsets (high watermarks) of the partitions. */
    Map<TopicPartition, Long> endOffsets(Collection<TopicPartition> partitions) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS, bootstrapServers);
        p.put(ConsumerConfig.CLIENT_ID, "raftmq-cli");
        try (Consumer<byte[], byte[]> consumer = new Consumer<>(p, Serdes.byteArrayDeserializer(),
                Serdes.byteArrayDeserializer())) {
            return consumer.endOffsets(partitions);
        }
    }

    void deleteGroup(String groupId) {
        admin.deleteGroups(List.of(groupId));
    }

    // ---- SCRAM users ----

    void upsertScramCredential(String user, String mechanism, int iterations, String password) {
        admin.upsertScramCredential(user, mechanism, iterations, password);
    }

    void deleteScramCredential(String user, String mechanism) {
        admin.deleteScramCredential(user, mechanism);
    }

    /** By user: each credential as {mechanism, iterations}. */
    Map<String, List<String[]>> describeScramCredentials(Collection<String> users) {
        Map<String, List<String[]>> out = new LinkedHashMap<>();
        admin.describeScramCredentials(users).forEach((user, infos) -> out.put(user, infos.stream()
                .map(i -> new String[] {i.mechanism(), String.valueOf(i.iterations())}).toList()));
        return out;
    }

    /** Kafka prints topic ids as URL-safe base64 of the 16 bytes, without padding. */
    private static String topicId(UUID id) {
        ByteBuffer b = ByteBuffer.allocate(16).putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits());
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
    }

    @Override
    public void close() {
        admin.close();
    }
}
