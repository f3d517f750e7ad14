package io.raftmq.broker.kafka;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.broker.BrokerApi;
import io.raftmq.node.InProcessCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.AlterConfigOp.OpType;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.message.AlterConfigsRequestData;
import org.apache.kafka.common.message.AlterConfigsResponseData;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeConfigsRequestData.DescribeConfigsResource;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResourceResult;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResult;
import org.apache.kafka.common.message.DescribeLogDirsRequestData;
import org.apache.kafka.common.message.DescribeLogDirsResponseData;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigSource;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * DescribeConfigs, AlterConfigs, IncrementalAlterConfigs and DescribeLogDirs against one combined
 * node in this JVM (its broker sets log.retention.ms, so a topic default comes from the broker's
 * config), every answer checked on the wire at its version.
 */
@Timeout(120)
class KafkaConfigsHandlerTest {
    private static final byte TOPIC = ConfigResource.Type.TOPIC.id();
    private static final byte BROKER = ConfigResource.Type.BROKER.id();

    @TempDir
    static Path dir;

    private static InProcessCluster cluster;
    private static KafkaWire wire;

    @BeforeAll
    static void start() throws Exception {
        cluster = new InProcessCluster(1, dir, Map.of("log.retention.ms", "3600000"));
        cluster.startAll();
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
        wire = new KafkaWire(api(), cluster.node(1).broker().groupCoordinator());
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
            cluster.assertNoFaults();
        }
    }

    private static BrokerApi api() {
        return cluster.node(1).broker().api();
    }

    private static void createTopic(String name, int partitions, Map<String, String> configs) throws Exception {
        CreateTopicsRequestData request = new CreateTopicsRequestData().setTimeoutMs(30_000);
        CreateTopicsRequestData.CreatableTopic topic = new CreateTopicsRequestData.CreatableTopic().setName(name)
                .setNumPartitions(partitions).setReplicationFactor((short) 1);
        configs.forEach((k, v) -> topic.configs().add(new CreateTopicsRequestData.CreatableTopicConfig().setName(k)
                .setValue(v)));
        request.topics().add(topic);
        CreateTopicsResponseData r = wire.call((short) 7, request);
        assertEquals(Errors.NONE.code(), r.topics().find(name).errorCode(), r.topics().find(name).errorMessage());
    }

    private static Map<String, String> overrides(String topic) {
        return api().image().topic(topic).configs();
    }

    // ---- DescribeConfigs ----

    private static DescribeConfigsResult describe(short version, byte type, String name, List<String> keys,
            boolean synonyms, boolean documentation) throws Exception {
        DescribeConfigsRequestData request = new DescribeConfigsRequestData().setIncludeSynonyms(synonyms);
        if (version >= 3) {
            request.setIncludeDocumentation(documentation);
        }
        request.resources().add(new DescribeConfigsResource().setResourceType(type).setResourceName(name)
                .setConfigurationKeys(keys));
        DescribeConfigsResponseData r = wire.call(version, request);
        assertEquals(1, r.results().size());
        DescribeConfigsResult result = r.results().get(0);
        assertEquals(type, result.resourceType());
        assertEquals(name, result.resourceName());
        return result;
    }

    private static DescribeConfigsResourceResult entry(DescribeConfigsResult result, String name) {
        return result.configs().stream().filter(c -> c.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(name + " not in " + result));
    }

    @Test
    void describesATopicsOverridesAndDefaultsWithTheirSources() throws Exception {
        createTopic("described", 1, Map.of("retention.ms", "1000"));
        for (short version = 1; version <= 4; version++) {
            DescribeConfigsResult r = describe(version, TOPIC, "described", null, true, true);
            assertEquals(Errors.NONE.code(), r.errorCode(), r.errorMessage());
            DescribeConfigsResourceResult retention = entry(r, "retention.ms");
            assertEquals("1000", retention.value());
            assertEquals(ConfigSource.TOPIC_CONFIG.id(), retention.configSource());
            assertFalse(retention.readOnly());
            assertFalse(retention.isSensitive());
            assertEquals(List.of("retention.ms/1000/" + ConfigSource.TOPIC_CONFIG,
                    "log.retention.ms/3600000/" + ConfigSource.STATIC_BROKER_CONFIG,
                    "log.retention.ms/604800000/" + ConfigSource.DEFAULT_CONFIG), synonyms(retention));
            DescribeConfigsResourceResult segment = entry(r, "segment.bytes");
            assertEquals(ConfigSource.DEFAULT_CONFIG.id(), segment.configSource());
            DescribeConfigsResourceResult cleanup = entry(r, "cleanup.policy");
            assertEquals("delete", cleanup.value());
            if (version >= 3) {
                assertEquals(ConfigType.LIST.id(), cleanup.configType());
                assertNotNull(retention.documentation());
                assertFalse(retention.documentation().isEmpty());
            }
        }
    }

    private static List<String> synonyms(DescribeConfigsResourceResult entry) {
        return entry.synonyms().stream().map(s -> s.name() + "/" + s.value() + "/" + ConfigSource.forId(s.source()))
                .toList();
    }

    @Test
    void aTopicDefaultFromTheBrokersConfigIsAStaticBrokerConfig() throws Exception {
        createTopic("defaults", 1, Map.of());
        DescribeConfigsResult r = describe((short) 4, TOPIC, "defaults", List.of("retention.ms", "not-a-config"),
                false, false);
        assertEquals(1, r.configs().size(), "only the keys asked for that exist");
        DescribeConfigsResourceResult retention = r.configs().get(0);
        assertEquals("3600000", retention.value());
        assertEquals(ConfigSource.STATIC_BROKER_CONFIG.id(), retention.configSource());
        assertTrue(retention.synonyms().isEmpty(), "not asked for synonyms");
        assertNull(retention.documentation(), "not asked for documentation");
        assertTrue(describe((short) 4, TOPIC, "defaults", List.of(), false, false).configs().size() > 10,
                "an empty key list means every key, as in Kafka");
    }

    @Test
    void unknownAndInvalidTopicsAreRefused() throws Exception {
        DescribeConfigsResult unknown = describe((short) 4, TOPIC, "no-such-topic", null, false, false);
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), unknown.errorCode());
        assertTrue(unknown.configs().isEmpty());
        assertEquals(Errors.INVALID_TOPIC_EXCEPTION.code(), describe((short) 1, TOPIC, "bad/name", null, false,
                false).errorCode());
    }

    @Test
    void describesThisBrokersReadOnlySettingsAndRefusesOtherBrokersAndLoggers() throws Exception {
        for (short version : new short[] {1, 4}) {
            DescribeConfigsResult own = describe(version, BROKER, "1", null, true, false);
            assertEquals(Errors.NONE.code(), own.errorCode(), own.errorMessage());
            assertTrue(own.configs().stream().allMatch(DescribeConfigsResourceResult::readOnly));
            DescribeConfigsResourceResult retention = entry(own, "log.retention.ms");
            assertEquals("3600000", retention.value());
            assertEquals(ConfigSource.STATIC_BROKER_CONFIG.id(), retention.configSource());
            assertEquals(ConfigSource.DEFAULT_CONFIG.id(), entry(own, "fetch.max.bytes").configSource());

            DescribeConfigsResult clusterDefault = describe(version, BROKER, "", null, true, false);
            assertEquals(Errors.NONE.code(), clusterDefault.errorCode());
            assertTrue(clusterDefault.configs().isEmpty(), "no dynamic cluster-wide defaults");
        }
        DescribeConfigsResult other = describe((short) 4, BROKER, "2", null, false, false);
        assertEquals(Errors.INVALID_REQUEST.code(), other.errorCode());
        assertTrue(other.errorMessage().contains("Unexpected broker id"), other.errorMessage());
        assertEquals(Errors.INVALID_REQUEST.code(), describe((short) 4, BROKER, "one", null, false, false)
                .errorCode());
        DescribeConfigsResult logger = describe((short) 4, ConfigResource.Type.BROKER_LOGGER.id(), "1", null, false,
                false);
        assertEquals(Errors.INVALID_REQUEST.code(), logger.errorCode());
        assertTrue(logger.errorMessage().contains("BROKER_LOGGER"), logger.errorMessage());
        assertEquals(Errors.INVALID_REQUEST.code(), describe((short) 4, (byte) 99, "x", null, false, false)
                .errorCode());
    }

    // ---- AlterConfigs (legacy) ----

    private static AlterConfigsResponseData alter(short version, boolean validateOnly, byte type, String name,
            Map<String, String> configs) throws Exception {
        AlterConfigsRequestData request = new AlterConfigsRequestData().setValidateOnly(validateOnly);
        AlterConfigsRequestData.AlterConfigsResource resource = new AlterConfigsRequestData.AlterConfigsResource()
                .setResourceType(type).setResourceName(name);
        configs.forEach((k, v) -> resource.configs().add(new AlterConfigsRequestData.AlterableConfig().setName(k)
                .setValue(v)));
        request.resources().add(resource);
        return wire.call(version, request);
    }

    private static AlterConfigsResponseData.AlterConfigsResourceResponse only(AlterConfigsResponseData r) {
        assertEquals(1, r.responses().size());
        return r.responses().get(0);
    }

    @Test
    void legacyAlterConfigsReplacesTheTopicsOverrides() throws Exception {
        createTopic("legacy", 1, Map.of("retention.ms", "1000", "segment.bytes", "1048576"));
        AlterConfigsResponseData.AlterConfigsResourceResponse validated = only(alter((short) 2, true, TOPIC, "legacy",
                Map.of("max.message.bytes", "2048")));
        assertEquals(Errors.NONE.code(), validated.errorCode(), validated.errorMessage());
        assertEquals(Map.of("retention.ms", "1000", "segment.bytes", "1048576"), overrides("legacy"), "validate only");

        AlterConfigsResponseData.AlterConfigsResourceResponse replaced = only(alter((short) 0, false, TOPIC, "legacy",
                Map.of("max.message.bytes", "2048", "retention.ms", "1000")));
        assertEquals(Errors.NONE.code(), replaced.errorCode(), replaced.errorMessage());
        assertEquals("legacy", replaced.resourceName());
        assertEquals(Map.of("max.message.bytes", "2048", "retention.ms", "1000"), overrides("legacy"));

        AlterConfigsResponseData.AlterConfigsResourceResponse bad = only(alter((short) 2, false, TOPIC, "legacy",
                Map.of("retention.ms", "soon")));
        assertEquals(Errors.INVALID_CONFIG.code(), bad.errorCode());
        assertEquals(Map.of("max.message.bytes", "2048", "retention.ms", "1000"), overrides("legacy"), "unchanged");

        Map<String, String> withNull = new HashMap<>();
        withNull.put("retention.ms", null);
        assertEquals(Errors.INVALID_REQUEST.code(), only(alter((short) 2, false, TOPIC, "legacy", withNull))
                .errorCode());
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), only(alter((short) 2, false, TOPIC, "no-such-topic",
                Map.of("retention.ms", "1"))).errorCode());
    }

    @Test
    void brokerSettingsCannotBeAlteredAndOtherResourcesOfTheRequestAreUnaffected() throws Exception {
        createTopic("beside-broker", 1, Map.of());
        AlterConfigsRequestData request = new AlterConfigsRequestData();
        AlterConfigsRequestData.AlterConfigsResource broker = new AlterConfigsRequestData.AlterConfigsResource()
                .setResourceType(BROKER).setResourceName("1");
        broker.configs().add(new AlterConfigsRequestData.AlterableConfig().setName("log.retention.ms").setValue("1"));
        AlterConfigsRequestData.AlterConfigsResource topic = new AlterConfigsRequestData.AlterConfigsResource()
                .setResourceType(TOPIC).setResourceName("beside-broker");
        topic.configs().add(new AlterConfigsRequestData.AlterableConfig().setName("retention.ms").setValue("5000"));
        request.resources().add(broker);
        request.resources().add(topic);
        AlterConfigsResponseData r = wire.call((short) 1, request);
        assertEquals(List.of(BROKER, TOPIC), r.responses().stream()
                .map(AlterConfigsResponseData.AlterConfigsResourceResponse::resourceType).toList());
        assertEquals(Errors.INVALID_REQUEST.code(), r.responses().get(0).errorCode());
        assertTrue(r.responses().get(0).errorMessage().contains("Cannot update these configs dynamically"),
                r.responses().get(0).errorMessage());
        assertEquals(Errors.NONE.code(), r.responses().get(1).errorCode());
        assertEquals(Map.of("retention.ms", "5000"), overrides("beside-broker"));

        IncrementalAlterConfigsResponseData incremental = incremental((short) 1, false, BROKER, "1",
                op("log.retention.ms", OpType.SET, "1"));
        assertEquals(Errors.INVALID_REQUEST.code(), incremental.responses().get(0).errorCode());
        assertEquals(Errors.INVALID_REQUEST.code(), incremental((short) 1, false,
                ConfigResource.Type.BROKER_LOGGER.id(), "1", op("root", OpType.SET, "DEBUG")).responses().get(0)
                .errorCode());
    }

    // ---- IncrementalAlterConfigs ----

    private static IncrementalAlterConfigsRequestData.AlterableConfig op(String key, OpType op, String value) {
        return new IncrementalAlterConfigsRequestData.AlterableConfig().setName(key).setConfigOperation(op.id())
                .setValue(value);
    }

    private static IncrementalAlterConfigsResponseData incremental(short version, boolean validateOnly, byte type,
            String name, IncrementalAlterConfigsRequestData.AlterableConfig... ops) throws Exception {
        IncrementalAlterConfigsRequestData request = new IncrementalAlterConfigsRequestData()
                .setValidateOnly(validateOnly);
        IncrementalAlterConfigsRequestData.AlterConfigsResource resource =
                new IncrementalAlterConfigsRequestData.AlterConfigsResource().setResourceType(type)
                        .setResourceName(name);
        for (IncrementalAlterConfigsRequestData.AlterableConfig op : ops) {
            resource.configs().add(op.duplicate());
        }
        request.resources().add(resource);
        IncrementalAlterConfigsResponseData r = wire.call(version, request);
        assertEquals(1, r.responses().size());
        return r;
    }

    private static IncrementalAlterConfigsResponseData.AlterConfigsResourceResponse topicAnswer(short version,
            boolean validateOnly, String topic, IncrementalAlterConfigsRequestData.AlterableConfig... ops)
            throws Exception {
        return incremental(version, validateOnly, TOPIC, topic, ops).responses().get(0);
    }

    @Test
    void incrementalSetDeleteAppendAndSubtract() throws Exception {
        createTopic("incremental", 1, Map.of());
        var set = topicAnswer((short) 0, false, "incremental", op("retention.ms", OpType.SET, "2000"),
                op("cleanup.policy", OpType.APPEND, "delete"));
        assertEquals(Errors.NONE.code(), set.errorCode(), set.errorMessage());
        assertEquals(Map.of("retention.ms", "2000", "cleanup.policy", "delete"), overrides("incremental"),
                "APPEND to the default list");

        var delete = topicAnswer((short) 1, false, "incremental", op("retention.ms", OpType.DELETE, null),
                op("cleanup.policy", OpType.SUBTRACT, "compact"));
        assertEquals(Errors.NONE.code(), delete.errorCode(), delete.errorMessage());
        assertEquals(Map.of("cleanup.policy", "delete"), overrides("incremental"));

        var compact = topicAnswer((short) 1, false, "incremental", op("cleanup.policy", OpType.APPEND, "compact"));
        assertEquals(Errors.INVALID_CONFIG.code(), compact.errorCode(), "the controller refuses 'delete,compact'");
        assertTrue(compact.errorMessage().contains("delete,compact"), compact.errorMessage());
        var emptied = topicAnswer((short) 1, false, "incremental", op("cleanup.policy", OpType.SUBTRACT, "delete"));
        assertEquals(Errors.INVALID_CONFIG.code(), emptied.errorCode(), emptied.errorMessage());

        var validated = topicAnswer((short) 1, true, "incremental", op("retention.ms", OpType.SET, "9000"));
        assertEquals(Errors.NONE.code(), validated.errorCode(), validated.errorMessage());
        assertEquals(Map.of("cleanup.policy", "delete"), overrides("incremental"), "validate only");
    }

    @Test
    void appendToANonListConfigAndAnUnknownKeyAreRefusedAndNothingChanges() throws Exception {
        createTopic("refusals", 1, Map.of("retention.ms", "1000"));
        var notList = topicAnswer((short) 1, false, "refusals", op("retention.ms", OpType.APPEND, "5"));
        assertEquals(Errors.INVALID_CONFIG.code(), notList.errorCode());
        assertTrue(notList.errorMessage().contains("cleanup.policy"), "names the list configs: "
                + notList.errorMessage());
        var unknown = topicAnswer((short) 1, false, "refusals", op("retention.ms", OpType.SET, "3000"),
                op("no.such.config", OpType.SET, "1"));
        assertEquals(Errors.INVALID_CONFIG.code(), unknown.errorCode());
        assertTrue(unknown.errorMessage().contains("no.such.config"), unknown.errorMessage());
        var nullValue = topicAnswer((short) 1, false, "refusals", op("retention.ms", OpType.SET, null));
        assertEquals(Errors.INVALID_REQUEST.code(), nullValue.errorCode());
        // Segments too small or too young would run the broker out of files (and replay forever).
        var tinySegments = topicAnswer((short) 1, false, "refusals", op("segment.bytes", OpType.SET, "1024"));
        assertEquals(Errors.INVALID_CONFIG.code(), tinySegments.errorCode());
        assertTrue(tinySegments.errorMessage().contains("1048576"), tinySegments.errorMessage());
        var fastRolls = topicAnswer((short) 1, false, "refusals", op("segment.ms", OpType.SET, "1"));
        assertEquals(Errors.INVALID_CONFIG.code(), fastRolls.errorCode());
        assertTrue(fastRolls.errorMessage().contains("60000"), fastRolls.errorMessage());
        assertEquals(Map.of("retention.ms", "1000"), overrides("refusals"), "nothing changed");
    }

    // ---- DescribeLogDirs ----

    @Test
    void describesTheLogDirectoryWithItsPartitions() throws Exception {
        createTopic("logdirs", 2, Map.of());
        await().atMost(Duration.ofSeconds(10)).until(() -> api().admin().describeLogDir().partitions().stream()
                .filter(p -> p.tp().topic().equals("logdirs")).count() == 2);
        for (short version = 1; version <= 5; version++) {
            DescribeLogDirsResponseData r = wire.call(version, new DescribeLogDirsRequestData().setTopics(null));
            assertEquals(Errors.NONE.code(), r.errorCode());
            assertEquals(1, r.results().size());
            DescribeLogDirsResponseData.DescribeLogDirsResult dir = r.results().get(0);
            assertEquals(Errors.NONE.code(), dir.errorCode());
            assertEquals(api().admin().describeLogDir().path(), dir.logDir());
            DescribeLogDirsResponseData.DescribeLogDirsTopic topic = dir.topics().stream()
                    .filter(t -> t.name().equals("logdirs")).findFirst().orElseThrow();
            assertEquals(List.of(0, 1), topic.partitions().stream()
                    .map(DescribeLogDirsResponseData.DescribeLogDirsPartition::partitionIndex).toList());
            assertTrue(topic.partitions().stream().allMatch(p -> p.partitionSize() >= 0 && p.offsetLag() == 0
                    && !p.isFutureKey()));
            if (version >= 4) {
                assertTrue(dir.totalBytes() > 0 && dir.usableBytes() > 0, dir.toString());
            }
        }
        DescribeLogDirsRequestData one = new DescribeLogDirsRequestData();
        one.topics().add(new DescribeLogDirsRequestData.DescribableLogDirTopic().setTopic("logdirs")
                .setPartitions(new ArrayList<>(List.of(1))));
        DescribeLogDirsResponseData filtered = wire.call((short) 5, one);
        assertEquals(List.of("logdirs"), filtered.results().get(0).topics().stream()
                .map(DescribeLogDirsResponseData.DescribeLogDirsTopic::name).toList());
        assertEquals(1, filtered.results().get(0).topics().get(0).partitions().get(0).partitionIndex());
    }
}
