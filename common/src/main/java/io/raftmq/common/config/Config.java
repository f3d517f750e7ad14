package io.raftmq.common.config;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Parsed configuration: every known key is parsed when this is built, so that a bad value fails
 * at start with a message naming the key, not later. Immutable.
 */
public final class Config {
    private final Map<String, Object> values;
    private final Set<String> unknownKeys;
    private final Set<String> explicitKeys;

    /**
     * @param raw the text values (from a properties file with environment overrides)
     * @param keys every key the component knows
     * @throws ConfigException for a malformed value or a missing required key
     */
    public Config(Map<String, String> raw, Collection<ConfigKey<?>> keys) {
        Map<String, Object> parsed = new HashMap<>();
        Set<String> explicit = new TreeSet<>();
        for (ConfigKey<?> key : keys) {
            String text = raw.get(key.name());
            if (text == null || text.isBlank()) {
                if (key.defaultValue() == null) {
                    throw new ConfigException("missing required config " + key.name() + " (environment: "
                            + key.envName() + "): " + key.doc());
                }
                parsed.put(key.name(), key.defaultValue());
            } else {
                parsed.put(key.name(), key.parse(text));
                explicit.add(key.name());
            }
        }
        this.values = Map.copyOf(parsed);
        Set<String> unknown = new TreeSet<>(raw.keySet());
        unknown.removeAll(parsed.keySet());
        this.unknownKeys = Set.copyOf(unknown);
        this.explicitKeys = Set.copyOf(explicit);
    }

    @SuppressWarnings("unchecked")
    public <T> T get(ConfigKey<T> key) {
        Object value = values.get(key.name());
        if (value == null && !values.containsKey(key.name())) {
            throw new IllegalArgumentException("config key " + key.name() + " is not defined for this component");
        }
        return (T) value;
    }

    /** Known keys the input gave a value for (the others took their defaults). */
    public Set<String> explicitKeys() {
        return explicitKeys;
    }

    /** Keys in the input that no component defined (worth a warning: probably a typo). */
    public Set<String> unknownKeys() {
        return unknownKeys;
    }
}
