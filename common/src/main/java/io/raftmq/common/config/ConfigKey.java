package io.raftmq.common.config;

import java.util.Arrays;
import java.util.List;
import java.util.function.BiFunction;

/**
 * One configuration key: its name, how its text value parses, its default (null: required) and
 * its documentation. Names carry units (e.g. {@code broker.session.timeout.ms}).
 *
 * @param <T> the parsed type
 */
public final class ConfigKey<T> {
    private final String name;
    private final T defaultValue;
    /** (key name, text) -> value; the name is for error messages. */
    private final BiFunction<String, String, T> parser;
    private final String doc;

    private ConfigKey(String name, T defaultValue, BiFunction<String, String, T> parser, String doc) {
        this.name = name;
        this.defaultValue = defaultValue;
        this.parser = parser;
        this.doc = doc;
    }

    public static ConfigKey<Integer> ofInt(String name, Integer defaultValue, int min, int max, String doc) {
        return new ConfigKey<>(name, defaultValue, (n, text) -> parseLong(n, text, min, max).intValue(), doc);
    }

    public static ConfigKey<Long> ofLong(String name, Long defaultValue, long min, long max, String doc) {
        return new ConfigKey<>(name, defaultValue, (n, text) -> parseLong(n, text, min, max), doc);
    }

    public static ConfigKey<Boolean> ofBoolean(String name, boolean defaultValue, String doc) {
        return new ConfigKey<>(name, defaultValue, (n, text) -> {
            String t = text.trim().toLowerCase(java.util.Locale.ROOT);
            if (t.equals("true")) {
                return true;
            }
            if (t.equals("false")) {
                return false;
            }
            throw new ConfigException(n, text, "expected true or false");
        }, doc);
    }

    public static ConfigKey<String> ofString(String name, String defaultValue, String doc) {
        return new ConfigKey<>(name, defaultValue, (n, text) -> text.trim(), doc);
    }

    /** A comma-separated list; blank entries are dropped. */
    public static ConfigKey<List<String>> ofList(String name, List<String> defaultValue, String doc) {
        return new ConfigKey<>(name, defaultValue, (n, text) -> Arrays.stream(text.split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .toList(), doc);
    }

    /** A value from a fixed set, compared case-insensitively; parsed to lower case. */
    public static ConfigKey<String> ofChoice(String name, String defaultValue, List<String> choices, String doc) {
        return new ConfigKey<>(name, defaultValue, (n, text) -> {
            String t = text.trim().toLowerCase(java.util.Locale.ROOT);
            if (!choices.contains(t)) {
                throw new ConfigException(n, text, "expected one of " + choices);
            }
            return t;
        }, doc);
    }

    private static Long parseLong(String name, String text, long min, long max) {
        long value;
        try {
            value = Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new ConfigException(name, text, "not a whole number");
        }
        if (value < min || value > max) {
            throw new ConfigException(name, text, "must be between " + min + " and " + max);
        }
        return value;
    }

    public String name() {
        return name;
    }

    /** The default, or null when the key is required. */
    public T defaultValue() {
        return defaultValue;
    }

    public String doc() {
        return doc;
    }

    T parse(String text) {
        return parser.apply(name, text);
    }

    /**
     * The same key (type, checks, default) under another name: e.g. a broker-wide default {@code
     * log.retention.ms} for the topic config {@code retention.ms}.
     */
    public ConfigKey<T> renamed(String newName, String newDoc) {
        return new ConfigKey<>(newName, defaultValue, parser, newDoc);
    }

    /** The environment variable that overrides this key: RAFTMQ_ + upper case, '.' -> '_'. */
    public String envName() {
        return ConfigSources.envName(name);
    }

    @Override
    public String toString() {
        return name;
    }
}
