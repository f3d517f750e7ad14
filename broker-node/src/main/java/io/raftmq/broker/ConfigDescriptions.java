package io.raftmq.broker;

import io.raftmq.common.config.ConfigKey;
import io.raftmq.metadata.controller.TopicConfigs;
import io.raftmq.metadata.image.TopicImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Configs as DescribeConfigs shows them: every config a topic may set, with the value in force
 * and where it comes from (the topic's override, the broker's config file, or the default), and
 * every setting of this broker (read-only: a broker's settings come from its config file and
 * environment, and change with a restart).
 *
 * <p>Immutable; any thread.
 */
public final class ConfigDescriptions {

    /** Where a value comes from, most specific first. */
    public enum Source { TOPIC_OVERRIDE, BROKER_CONFIG, DEFAULT }

    public enum Type { BOOLEAN, STRING, INT, LONG, LIST }

    /** One value a config could take, from a less specific source (Kafka's synonyms). */
    public record Synonym(String name, String value, Source source) {}

    /**
     * @param synonyms the value's sources, most specific (the one in force) first
     * @param documentation null when none is known
     */
    public record Described(String name, String value, Source source, boolean readOnly, Type type,
            String documentation, List<Synonym> synonyms) {}

    /** Topic configs whose default is not a broker setting: their fixed value and type. */
    private static final Map<String, Described> FIXED_DEFAULTS = Map.of(
            TopicConfigs.CLEANUP_POLICY, fixed(TopicConfigs.CLEANUP_POLICY, "delete", Type.LIST,
                    "What happens to old segments: delete (log compaction is not supported)."),
            TopicConfigs.COMPRESSION_TYPE, fixed(TopicConfigs.COMPRESSION_TYPE, "producer", Type.STRING,
                    "Batches are stored as the producer compressed them."),
            TopicConfigs.UNCLEAN_LEADER_ELECTION_ENABLE, fixed(TopicConfigs.UNCLEAN_LEADER_ELECTION_ENABLE, "false",
                    Type.BOOLEAN, "Whether a replica outside the ISR may become leader when no ISR member is alive"
                            + " (records acknowledged only by the ISR can be lost)."));

    private final BrokerConfig config;

    public ConfigDescriptions(BrokerConfig config) {
        this.config = config;
    }

    /** Every config of {@code topic}, sorted by name. */
    public List<Described> topic(TopicImage topic) {
        return topic(topic.configs());
    }

    /** Every config of a topic with these overrides, sorted by name. */
    public List<Described> topic(Map<String, String> overrides) {
        List<Described> out = new ArrayList<>();
        for (String key : TopicConfigs.keys()) {
            Described fallback = topicDefault(key);
            String override = overrides.get(key);
            if (override == null) {
                out.add(fallback);
                continue;
            }
            List<Synonym> synonyms = new ArrayList<>();
            synonyms.add(new Synonym(key, override, Source.TOPIC_OVERRIDE));
            synonyms.addAll(fallback.synonyms());
            out.add(new Described(key, override, Source.TOPIC_OVERRIDE, false, fallback.type(),
                    fallback.documentation(), List.copyOf(synonyms)));
        }
        return out;
    }

    /** Every setting of this broker's role, sorted by name; all read-only. */
    public List<Described> broker() {
        List<Described> out = new ArrayList<>();
        for (BrokerConfig.Setting s : config.settings().values()) {
            Source source = s.explicit() ? Source.BROKER_CONFIG : Source.DEFAULT;
            out.add(new Described(s.key().name(), s.value(), source, true, typeOf(s.key()), s.key().doc(),
                    List.of(new Synonym(s.key().name(), s.value(), source))));
        }
        return out;
    }

    /** The value topic config {@code key} takes when the topic does not override it. */
    private Described topicDefault(String key) {
        Described fixed = FIXED_DEFAULTS.get(key);
        if (fixed != null) {
            return fixed;
        }
        BrokerConfig.Setting setting = config.topicDefault(key);
        if (setting == null) {
            throw new IllegalStateException("topic config " + key + " has no broker default");
        }
        String value = displayValue(key, setting.value());
        Source source = setting.explicit() ? Source.BROKER_CONFIG : Source.DEFAULT;
        List<Synonym> synonyms = new ArrayList<>();
        if (setting.explicit()) {
            synonyms.add(new Synonym(setting.key().name(), value, Source.BROKER_CONFIG));
        }
        Object defaultValue = setting.key().defaultValue();
        synonyms.add(new Synonym(setting.key().name(), displayValue(key, String.valueOf(defaultValue)),
                Source.DEFAULT));
        return new Described(key, value, source, false, typeOf(setting.key()), setting.key().doc(),
                List.copyOf(synonyms));
    }

    /** Values as Kafka spells them (the storage module keeps choices in lower case). */
    private static String displayValue(String key, String value) {
        if (key.equals(TopicConfigs.MESSAGE_TIMESTAMP_TYPE)) {
            return value.equalsIgnoreCase("logappendtime") ? "LogAppendTime" : "CreateTime";
        }
        return value;
    }

    private static Described fixed(String key, String value, Type type, String doc) {
        return new Described(key, value, Source.DEFAULT, false, type, doc,
                List.of(new Synonym(key, value, Source.DEFAULT)));
    }

    private static Type typeOf(ConfigKey<?> key) {
        Object value = key.defaultValue();
        if (value instanceof Integer) {
            return Type.INT;
        }
        if (value instanceof Long) {
            return Type.LONG;
        }
        if (value instanceof Boolean) {
            return Type.BOOLEAN;
        }
        if (value instanceof List<?>) {
            return Type.LIST;
        }
        return Type.STRING;
    }
}
