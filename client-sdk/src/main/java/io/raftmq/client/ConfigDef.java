package io.raftmq.client;

import io.raftmq.client.errors.ConfigException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The settings one client kind accepts: each key's type, default and bounds, in Kafka's names.
 * {@link #parse} turns user input (strings or typed values) into checked values, failing with a
 * {@link ConfigException} that names the key, the value and the rule. Immutable after building.
 */
final class ConfigDef {
    enum Type { STRING, INT, LONG, BOOLEAN, LIST }

    record Key(String name, Type type, Object defaultValue, long min, long max, Set<String> allowed, String doc) {}

    /** A required key has this default. */
    static final Object REQUIRED = new Object();

    private final Map<String, Key> keys = new LinkedHashMap<>();

    ConfigDef define(String name, Type type, Object defaultValue, String doc) {
        keys.put(name, new Key(name, type, defaultValue, Long.MIN_VALUE, Long.MAX_VALUE, Set.of(), doc));
        return this;
    }

    ConfigDef define(String name, Type type, Object defaultValue, long min, long max, String doc) {
        keys.put(name, new Key(name, type, defaultValue, min, max, Set.of(), doc));
        return this;
    }

    ConfigDef defineChoice(String name, String defaultValue, Set<String> allowed, String doc) {
        keys.put(name, new Key(name, Type.STRING, defaultValue, Long.MIN_VALUE, Long.MAX_VALUE, allowed, doc));
        return this;
    }

    Map<String, Key> keys() {
        return keys;
    }

    /** Checked values for every key (defaults filled in), plus which keys the user set. */
    Values parse(Map<String, ?> input) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, ?> e : input.entrySet()) {
            Key key = keys.get(e.getKey());
            if (key == null) {
                throw new ConfigException("unknown config '" + e.getKey() + "'; known keys: "
                        + new TreeSet<>(keys.keySet()));
            }
            if (e.getValue() == null) {
                throw new ConfigException("config " + key.name + " has a null value");
            }
            out.put(key.name, convert(key, e.getValue()));
        }
        for (Key key : keys.values()) {
            if (!out.containsKey(key.name)) {
                if (key.defaultValue == REQUIRED) {
                    throw new ConfigException("missing required config " + key.name + ": " + key.doc);
                }
                out.put(key.name, key.defaultValue);
            }
        }
        return new Values(out, Set.copyOf(input.keySet()));
    }

    private static Object convert(Key key, Object raw) {
        String text = raw.toString().trim();
        try {
            switch (key.type) {
                case STRING -> {
                    String v = raw instanceof String s ? s.trim() : text;
                    if (!key.allowed.isEmpty() && !key.allowed.contains(v.toLowerCase(Locale.ROOT))) {
                        throw bad(key, raw, "must be one of " + key.allowed);
                    }
                    return key.allowed.isEmpty() ? v : v.toLowerCase(Locale.ROOT);
                }
                case INT, LONG -> {
                    long v = raw instanceof Number n ? n.longValue() : Long.parseLong(text);
                    if (v < key.min || v > key.max) {
                        throw bad(key, raw, key.max == Long.MAX_VALUE || key.max == Integer.MAX_VALUE
                                ? "must be at least " + key.min : "must be between " + key.min + " and " + key.max);
                    }
                    if (key.type == Type.INT) {
                        if (v > Integer.MAX_VALUE || v < Integer.MIN_VALUE) {
                            throw bad(key, raw, "must fit in an int");
                        }
                        return (int) v;
                    }
                    return v;
                }
                case BOOLEAN -> {
                    if (raw instanceof Boolean b) {
                        return b;
                    }
                    if (text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false")) {
                        return Boolean.parseBoolean(text);
                    }
                    throw bad(key, raw, "must be true or false");
                }
                case LIST -> {
                    List<String> items = new ArrayList<>();
                    if (raw instanceof List<?> l) {
                        l.forEach(x -> items.add(x.toString().trim()));
                    } else {
                        for (String part : text.split(",")) {
                            if (!part.isBlank()) {
                                items.add(part.trim());
                            }
                        }
                    }
                    return List.copyOf(items);
                }
                default -> throw new IllegalStateException("type " + key.type);
            }
        } catch (NumberFormatException e) {
            throw bad(key, raw, "must be a number");
        }
    }

    static ConfigException bad(Key key, Object raw, String rule) {
        return new ConfigException("invalid value '" + raw + "' for config " + key.name + ": " + rule);
    }

    /** Checked config values. Immutable. */
    static final class Values {
        private final Map<String, Object> values;
        private final Set<String> explicitlySet;

        Values(Map<String, Object> values, Set<String> explicitlySet) {
            this.values = values;
            this.explicitlySet = explicitlySet;
        }

        String string(String key) {
            return (String) values.get(key);
        }

        int intValue(String key) {
            return (Integer) values.get(key);
        }

        long longValue(String key) {
            return (Long) values.get(key);
        }

        boolean bool(String key) {
            return (Boolean) values.get(key);
        }

        @SuppressWarnings("unchecked")
        List<String> list(String key) {
            return (List<String>) values.get(key);
        }

        boolean isSet(String key) {
            return explicitlySet.contains(key);
        }

        Map<String, Object> asMap() {
            return values;
        }
    }
}
