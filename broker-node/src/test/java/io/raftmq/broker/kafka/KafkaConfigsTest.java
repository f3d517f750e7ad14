package io.raftmq.broker.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.raftmq.broker.ConfigDescriptions;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.requests.DescribeConfigsResponse;
import org.junit.jupiter.api.Test;

/** IncrementalAlterConfigs' list arithmetic and the source and type codes, as Kafka defines them. */
class KafkaConfigsTest {

    @Test
    void appendAddsMissingElementsInOrderAndSubtractRemovesThem() {
        assertEquals("delete,compact", KafkaConfigs.append("delete", "compact"));
        assertEquals("delete,compact", KafkaConfigs.append("delete", "compact,delete"));
        assertEquals("delete", KafkaConfigs.append("delete", "delete"));
        assertEquals("a,b", KafkaConfigs.append("", "a,,b"));
        assertEquals("delete", KafkaConfigs.subtract("delete,compact", "compact"));
        assertEquals("", KafkaConfigs.subtract("delete", "delete"));
        assertEquals("delete", KafkaConfigs.subtract("delete", "compact"));
    }

    @Test
    void sourcesAndTypesAreKafkasCodes() {
        assertEquals(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, DescribeConfigsResponse.ConfigSource.forId(
                KafkaConfigs.source(ConfigDescriptions.Source.TOPIC_OVERRIDE)).source());
        assertEquals(ConfigEntry.ConfigSource.STATIC_BROKER_CONFIG, DescribeConfigsResponse.ConfigSource.forId(
                KafkaConfigs.source(ConfigDescriptions.Source.BROKER_CONFIG)).source());
        assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, DescribeConfigsResponse.ConfigSource.forId(
                KafkaConfigs.source(ConfigDescriptions.Source.DEFAULT)).source());
        for (ConfigDescriptions.Type type : ConfigDescriptions.Type.values()) {
            assertEquals(type.name(), DescribeConfigsResponse.ConfigType.forId(KafkaConfigs.type(type)).type().name());
        }
    }
}
