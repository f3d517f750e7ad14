package io.raftmq.metadata.image;

import com.google.protobuf.ByteString;
import io.raftmq.common.Uuids;
import io.raftmq.protocol.common.ConfigEntry;
import io.raftmq.protocol.metadata.AccessControlEntryRecord;
import io.raftmq.protocol.metadata.BrokerControlledShutdownRecord;
import io.raftmq.protocol.metadata.ClusterIdRecord;
import io.raftmq.protocol.metadata.ControllerChangeRecord;
import io.raftmq.protocol.metadata.CreateTopicRecord;
import io.raftmq.protocol.metadata.MetadataRecord;
import io.raftmq.protocol.metadata.PartitionRecord;
import io.raftmq.protocol.metadata.ProducerIdsRecord;
import io.raftmq.protocol.metadata.RegisterBrokerRecord;
import io.raftmq.protocol.metadata.ScramMechanism;
import io.raftmq.protocol.metadata.UnfenceBrokerRecord;
import io.raftmq.protocol.metadata.UserScramCredentialRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.common.acl.AclBinding;
import java.util.TreeMap;

/**
 * Writes a {@link MetadataImage} as the records that rebuild it ({@link
 * MetadataDelta#loadSnapshot}): the content of snapshots and of the first part of a metadata watch.
 * The order is deterministic (brokers by id, topics by name, partitions by id, ACLs by content, SCRAM
 * credentials by user and mechanism), so equal images
 * give equal records and byte-identical snapshots.
 */
public final class ImageRecords {
    private ImageRecords() {}

    public static List<MetadataRecord> of(MetadataImage image) {
        List<MetadataRecord> out = new ArrayList<>();
        ControllerRegistration controller = image.controller();
        if (controller != null) {
            out.add(MetadataRecord.newBuilder().setControllerChange(ControllerChangeRecord.newBuilder()
                    .setControllerId(controller.controllerId())
                    .setControllerEpoch(controller.controllerEpoch())
                    .setEndpoint(controller.endpoint())).build());
        }
        if (image.clusterId() != null) {
            out.add(MetadataRecord.newBuilder()
                    .setClusterId(ClusterIdRecord.newBuilder().setClusterId(image.clusterId())).build());
        }
        for (BrokerRegistration broker : image.brokersSorted()) {
            out.add(MetadataRecord.newBuilder().setRegisterBroker(RegisterBrokerRecord.newBuilder()
                    .setBrokerId(broker.id())
                    .setBrokerEpoch(broker.epoch())
                    .setIncarnationId(Uuids.toProto(broker.incarnationId()))
                    .addAllEndpoints(broker.endpoints())
                    .setRack(broker.rack())
                    .setRegistrationOffset(broker.registrationOffset())).build());
            switch (broker.state()) {
                case FENCED -> {}
                case UNFENCED -> out.add(MetadataRecord.newBuilder().setUnfenceBroker(UnfenceBrokerRecord.newBuilder()
                        .setBrokerId(broker.id())
                        .setBrokerEpoch(broker.epoch())).build());
                case CONTROLLED_SHUTDOWN -> out.add(MetadataRecord.newBuilder()
                        .setBrokerControlledShutdown(BrokerControlledShutdownRecord.newBuilder()
                                .setBrokerId(broker.id())
                                .setBrokerEpoch(broker.epoch())).build());
            }
        }
        for (TopicImage topic : image.topicsSorted()) {
            CreateTopicRecord.Builder create = CreateTopicRecord.newBuilder()
                    .setName(topic.name())
                    .setTopicId(Uuids.toProto(topic.id()));
            for (Map.Entry<String, String> config : topic.configs().entrySet()) {
                create.addConfigs(ConfigEntry.newBuilder().setKey(config.getKey()).setValue(config.getValue()));
            }
            out.add(MetadataRecord.newBuilder().setCreateTopic(create).build());
            for (int i = 0; i < topic.numPartitions(); i++) {
                PartitionRegistration p = topic.partitions().get(i);
                out.add(MetadataRecord.newBuilder().setPartition(PartitionRecord.newBuilder()
                        .setTopicId(Uuids.toProto(topic.id()))
                        .setPartitionId(i)
                        .addAllReplicas(p.replicas())
                        .addAllIsr(p.isr())
                        .setLeader(p.leader())
                        .setLeaderEpoch(p.leaderEpoch())
                        .setPartitionEpoch(p.partitionEpoch())).build());
            }
        }
        if (image.nextProducerId() > 0) {
            // Who got the last block is not kept; -1 says the record comes from an image.
            out.add(MetadataRecord.newBuilder().setProducerIds(ProducerIdsRecord.newBuilder()
                    .setBrokerId(-1)
                    .setBrokerEpoch(-1)
                    .setNextProducerId(image.nextProducerId())).build());
        }
        for (Map.Entry<UUID, AclBinding> acl : image.acls().sorted()) {
            out.add(MetadataRecord.newBuilder().setAccessControlEntry(AccessControlEntryRecord.newBuilder()
                    .setId(Uuids.toProto(acl.getKey()))
                    .setAcl(Acls.toEntry(acl.getValue()))).build());
        }
        for (Map.Entry<String, Map<ScramMechanism, ScramCredentialData>> user : image.scramUsersSorted().entrySet()) {
            for (Map.Entry<ScramMechanism, ScramCredentialData> credential : new TreeMap<>(user.getValue()).entrySet()) {
                ScramCredentialData data = credential.getValue();
                out.add(MetadataRecord.newBuilder().setUserScramCredential(UserScramCredentialRecord.newBuilder()
                        .setName(user.getKey())
                        .setMechanism(credential.getKey())
                        .setSalt(ByteString.copyFrom(data.salt()))
                        .setStoredKey(ByteString.copyFrom(data.storedKey()))
                        .setServerKey(ByteString.copyFrom(data.serverKey()))
                        .setIterations(data.iterations())).build());
            }
        }
        return out;
    }
}
