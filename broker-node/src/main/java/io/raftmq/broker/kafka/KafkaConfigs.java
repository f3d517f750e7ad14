package io.raftmq.broker.kafka;

import io.raftmq.broker.ConfigDescriptions;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigSource;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigType;

/**
 * Kafka's view of our configs: the source and type codes DescribeConfigs and CreateTopics
 * answers carry, and the list semantics of IncrementalAlterConfigs' APPEND and SUBTRACT (a Kafka
 * API feature: our controller only sets and deletes, so the new list is computed here, from the
 * value in force, as Kafka's ConfigurationControlManager does). Stateless; any thread.
 */
final class KafkaConfigs {
    private KafkaConfigs() {}

    /** Kafka's ConfigSource id for where a value comes from. */
    static byte source(ConfigDescriptions.Source source) {
        return switch (source) {
            case TOPIC_OVERRIDE -> ConfigSource.TOPIC_CONFIG.id();
            case BROKER_CONFIG -> ConfigSource.STATIC_BROKER_CONFIG.id();
            case DEFAULT -> ConfigSource.DEFAULT_CONFIG.id();
        };
    }

    /** Kafka's ConfigType id for a config's type. */
    static byte type(ConfigDescriptions.Type type) {
        return switch (type) {
            case BOOLEAN -> ConfigType.BOOLEAN.id();
            case STRING -> ConfigType.STRING.id();
            case INT -> ConfigType.INT.id();
            case LONG -> ConfigType.LONG.id();
            case LIST -> ConfigType.LIST.id();
        };
    }

    /**
     * APPEND: the list {@code current} with each comma-separated element of {@code added} that it
     * does not hold yet, at the end, in order.
     */
    static String append(String current, String added) {
        List<String> list = elements(current);
        for (String element : elements(added)) {
            if (!list.contains(element)) {
                list.add(element);
            }
        }
        return String.join(",", list);
    }

    /** SUBTRACT: the list {@code current} without any comma-separated element of {@code removed}. */
    static String subtract(String current, String removed) {
        List<String> list = elements(current);
        list.removeAll(elements(removed));
        return String.join(",", list);
    }

    /** A list value's elements; empty elements ("a,,b", "") are none. */
    private static List<String> elements(String value) {
        List<String> out = new ArrayList<>();
        if (value == null) {
            return out;
        }
        for (String element : value.split(",")) {
            if (!element.isEmpty()) {
                out.add(element);
            }
        }
        return out;
    }
}
