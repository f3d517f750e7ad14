package io.raftmq.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigTest {
    static final ConfigKey<Integer> NODE_ID = ConfigKey.ofInt("node.id", null, 0, 1000, "the node");
    static final ConfigKey<Long> TIMEOUT = ConfigKey.ofLong("session.timeout.ms", 900L, 100, 10_000, "timeout");
    static final ConfigKey<Boolean> FLAG = ConfigKey.ofBoolean("feature.enable", false, "flag");
    static final ConfigKey<List<String>> ROLES = ConfigKey.ofList("process.roles", List.of("broker"), "roles");
    static final ConfigKey<String> MODE = ConfigKey.ofChoice("flush.mode", "group", List.of("group", "os"), "mode");
    static final List<ConfigKey<?>> KEYS = List.of(NODE_ID, TIMEOUT, FLAG, ROLES, MODE);

    @Test
    void parsesValuesAndAppliesDefaults() {
        Config config = new Config(Map.of("node.id", "3", "process.roles", "broker, controller", "flush.mode", "OS",
                "typo.key", "x"), KEYS);
        assertEquals(3, config.get(NODE_ID));
        assertEquals(900L, config.get(TIMEOUT));
        assertEquals(false, config.get(FLAG));
        assertEquals(List.of("broker", "controller"), config.get(ROLES));
        assertEquals("os", config.get(MODE));
        assertEquals(Set.of("typo.key"), config.unknownKeys());
    }

    @Test
    void badValuesNameTheKey() {
        ConfigException missing = assertThrows(ConfigException.class, () -> new Config(Map.of(), KEYS));
        assertTrue(missing.getMessage().contains("node.id") && missing.getMessage().contains("RAFTMQ_NODE_ID"));
        ConfigException notNumber = assertThrows(ConfigException.class,
                () -> new Config(Map.of("node.id", "one"), KEYS));
        assertTrue(notNumber.getMessage().contains("node.id") && notNumber.getMessage().contains("'one'"));
        ConfigException range = assertThrows(ConfigException.class,
                () -> new Config(Map.of("node.id", "1", "session.timeout.ms", "5"), KEYS));
        assertTrue(range.getMessage().contains("session.timeout.ms") && range.getMessage().contains("100"));
        assertThrows(ConfigException.class, () -> new Config(Map.of("node.id", "1", "feature.enable", "yes"), KEYS));
        assertThrows(ConfigException.class, () -> new Config(Map.of("node.id", "1", "flush.mode", "never"), KEYS));
    }

    @Test
    void environmentOverridesPropertiesKeyByKey(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("node.properties");
        Files.writeString(file, "node.id=1\nsession.timeout.ms=1000\n");
        Map<String, String> raw = ConfigSources.withEnvironment(ConfigSources.readProperties(file), KEYS,
                Map.of("RAFTMQ_SESSION_TIMEOUT_MS", "2000", "RAFTMQ_PROCESS_ROLES", "controller", "PATH", "/bin"));
        Config config = new Config(raw, KEYS);
        assertEquals(1, config.get(NODE_ID));
        assertEquals(2000L, config.get(TIMEOUT));
        assertEquals(List.of("controller"), config.get(ROLES));
        assertEquals("RAFTMQ_SESSION_TIMEOUT_MS", TIMEOUT.envName());
    }
}
