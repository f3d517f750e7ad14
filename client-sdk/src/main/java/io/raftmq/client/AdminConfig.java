package io.raftmq.client;

import io.raftmq.client.ConfigDef.Type;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/** Admin client settings: bootstrap.servers, client.id, request.timeout.ms, default.api.timeout.ms. */
public final class AdminConfig extends ClientConfig {
    public static final String DEFAULT_API_TIMEOUT_MS = "default.api.timeout.ms";

    static final ConfigDef DEF = CommonConfigs.define(new ConfigDef())
            .define(DEFAULT_API_TIMEOUT_MS, Type.LONG, 60_000L, 1, Long.MAX_VALUE,
                    "how long one admin operation may take, retries included");

    private AdminConfig(Map<String, ?> input) {
        super(DEF, input);
    }

    public static AdminConfig fromProperties(Properties properties) {
        return new AdminConfig(CommonConfigs.fromProperties(properties));
    }

    public static AdminConfig fromMap(Map<String, ?> map) {
        return new AdminConfig(map);
    }

    /** Just the bootstrap servers, everything else at its default. */
    public static AdminConfig of(String bootstrapServers) {
        return new AdminConfig(Map.of(BOOTSTRAP_SERVERS, bootstrapServers));
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Not thread-safe. */
    public static final class Builder {
        private final Map<String, Object> map = new LinkedHashMap<>();

        private Builder() {
        }

        public Builder set(String key, Object value) {
            map.put(key, value);
            return this;
        }

        public Builder bootstrapServers(String servers) {
            return set(BOOTSTRAP_SERVERS, servers);
        }

        public Builder clientId(String id) {
            return set(CLIENT_ID, id);
        }

        public Builder requestTimeoutMs(int ms) {
            return set(REQUEST_TIMEOUT_MS, ms);
        }

        public Builder defaultApiTimeoutMs(long ms) {
            return set(DEFAULT_API_TIMEOUT_MS, ms);
        }

        public AdminConfig build() {
            return new AdminConfig(map);
        }
    }
}
