package io.raftmq.common.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Where configuration text comes from: a properties file, overridden key by key by environment
 * variables. The mapping is one-to-one: {@code broker.session.timeout.ms} is overridden by
 * {@code RAFTMQ_BROKER_SESSION_TIMEOUT_MS}.
 */
public final class ConfigSources {
    static final String ENV_PREFIX = "RAFTMQ_";

    private ConfigSources() {}

    public static String envName(String key) {
        return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** Reads a properties file (UTF-8). */
    public static Map<String, String> readProperties(Path file) throws IOException {
        Properties props = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            props.load(reader);
        }
        Map<String, String> out = new HashMap<>();
        props.stringPropertyNames().forEach(name -> out.put(name, props.getProperty(name)));
        return out;
    }

    /**
     * {@code fileValues} with every key of {@code keys} whose environment variable is set replaced
     * by the variable's value.
     */
    public static Map<String, String> withEnvironment(
            Map<String, String> fileValues, Collection<ConfigKey<?>> keys, Map<String, String> env) {
        Map<String, String> out = new HashMap<>(fileValues);
        for (ConfigKey<?> key : keys) {
            String value = env.get(key.envName());
            if (value != null) {
                out.put(key.name(), value);
            }
        }
        return out;
    }
}
