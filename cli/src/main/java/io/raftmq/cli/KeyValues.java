package io.raftmq.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/** Parses Kafka-style {@code key=value} flag values (--config, --property, --producer-props). */
final class KeyValues {
    private KeyValues() {
    }

    static Map<String, String> parse(List<String> entries, String flag) {
        Map<String, String> out = new LinkedHashMap<>();
        if (entries == null) {
            return out;
        }
        for (String entry : entries) {
            int eq = entry.indexOf('=');
            if (eq <= 0) {
                throw new CliException("invalid " + flag + " '" + entry + "': expected key=value");
            }
            out.put(entry.substring(0, eq).trim(), entry.substring(eq + 1));
        }
        return out;
    }

    static Properties properties(Map<String, String> map) {
        Properties p = new Properties();
        p.putAll(map);
        return p;
    }
}
