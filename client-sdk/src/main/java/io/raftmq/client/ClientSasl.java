package io.raftmq.client;

import io.raftmq.client.errors.AuthenticationException;
import io.raftmq.client.errors.ConfigException;
import io.raftmq.client.errors.SaslAuthenticationException;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.rpc.SaslLogin;
import io.raftmq.protocol.rpc.SaslSession;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A client's SASL login from Kafka's settings: {@code sasl.mechanism} (PLAIN, SCRAM-SHA-256 or
 * SCRAM-SHA-512) and the username and password, from {@code sasl.jaas.config} in Kafka's form
 * ({@code org.apache.kafka.common.security.scram.ScramLoginModule required username="alice"
 * password="secret";}, or PlainLoginModule) or from the simpler {@code sasl.username} / {@code
 * sasl.password}. Stateless; any thread.
 */
final class ClientSasl {
    /** Kafka's default sasl.mechanism, which raftmq does not serve. */
    static final String GSSAPI = "GSSAPI";
    /**
     * The SDK's exceptions for a SASL exchange's failures: a refusal is a {@link
     * SaslAuthenticationException} (not retriable), anything else the typed transport failure.
     */
    static final SaslSession.Failures FAILURES = new SaslSession.Failures() {
        @Override
        public RuntimeException refused(ErrorCode code, String message, Throwable cause) {
            return code == ErrorCode.SASL_AUTHENTICATION_FAILED || code == ErrorCode.UNSUPPORTED_SASL_MECHANISM
                    || code == ErrorCode.ILLEGAL_SASL_STATE
                    ? new SaslAuthenticationException(code, message, cause) : Errors.exception(code, message);
        }

        @Override
        public RuntimeException failed(Throwable transportFailure) {
            return Errors.fromThrowable(transportFailure);
        }

        @Override
        public boolean isRefusal(Throwable failure) {
            return failure instanceof AuthenticationException;
        }
    };
    private static final List<String> LOGIN_MODULES = List.of("org.apache.kafka.common.security.scram.ScramLoginModule",
            "org.apache.kafka.common.security.plain.PlainLoginModule");

    // <module> <flag> key=value ... ;  (one entry; values quoted or bare)
    private static final Pattern ENTRY = Pattern.compile(
            "\\s*(\\S+)\\s+(required|requisite|sufficient|optional)((?:\\s+[^\\s=;]+\\s*=\\s*(?:\"(?:[^\"\\\\]|\\\\.)*\"|[^\\s\";]+))*)\\s*;\\s*");
    private static final Pattern OPTION = Pattern.compile("([^\\s=;]+)\\s*=\\s*(?:\"((?:[^\"\\\\]|\\\\.)*)\"|([^\\s\";]+))");

    private ClientSasl() {}

    /**
     * The login {@code values} set, or null unless security.protocol is SASL_SSL or SASL_PLAINTEXT.
     *
     * @throws ConfigException naming the setting at fault
     */
    static SaslLogin login(ConfigDef.Values values) {
        String protocol = values.string(CommonConfigs.SECURITY_PROTOCOL);
        if (!protocol.equals(ClientTls.SASL_SSL) && !protocol.equals(ClientTls.SASL_PLAINTEXT)) {
            return null;
        }
        String protocolName = protocol.toUpperCase(Locale.ROOT);
        String mechanism = values.string(CommonConfigs.SASL_MECHANISM).trim().toUpperCase(Locale.ROOT);
        if (!SaslLogin.MECHANISMS.contains(mechanism)) {
            throw new ConfigException("config " + CommonConfigs.SASL_MECHANISM + "=" + mechanism + " is not served"
                    + (mechanism.equals(GSSAPI) ? " (GSSAPI is Kafka's default)" : "") + "; with "
                    + CommonConfigs.SECURITY_PROTOCOL + "=" + protocolName + " set it to one of " + SaslLogin.MECHANISMS);
        }
        String jaas = values.string(CommonConfigs.SASL_JAAS_CONFIG);
        String username = values.string(CommonConfigs.SASL_USERNAME);
        String password = values.string(CommonConfigs.SASL_PASSWORD);
        if (!jaas.isBlank()) {
            if (!username.isEmpty() || !password.isEmpty()) {
                throw new ConfigException("configs " + CommonConfigs.SASL_JAAS_CONFIG + " and "
                        + CommonConfigs.SASL_USERNAME + "/" + CommonConfigs.SASL_PASSWORD + " are both set: set one");
            }
            Map<String, String> options = jaasOptions(jaas);
            username = options.getOrDefault("username", "");
            password = options.getOrDefault("password", "");
            if (username.isEmpty() || !options.containsKey("password")) {
                throw new ConfigException("config " + CommonConfigs.SASL_JAAS_CONFIG + " names no "
                        + (username.isEmpty() ? "username" : "password") + " (expected username=\"...\""
                        + " password=\"...\")");
            }
        } else if (username.isEmpty()) {
            throw new ConfigException("with " + CommonConfigs.SECURITY_PROTOCOL + "=" + protocolName + ", config "
                    + CommonConfigs.SASL_JAAS_CONFIG + " (or " + CommonConfigs.SASL_USERNAME + " and "
                    + CommonConfigs.SASL_PASSWORD + ") is required");
        }
        return new SaslLogin(mechanism, username, password);
    }

    /** The options of a one-entry JAAS configuration whose module is Kafka's SCRAM or PLAIN one. */
    static Map<String, String> jaasOptions(String jaas) {
        Matcher entry = ENTRY.matcher(jaas);
        if (!entry.matches()) {
            throw new ConfigException("config " + CommonConfigs.SASL_JAAS_CONFIG + " is not one JAAS entry of the"
                    + " form '<LoginModule> required username=\"...\" password=\"...\";'");
        }
        if (!LOGIN_MODULES.contains(entry.group(1))) {
            throw new ConfigException("config " + CommonConfigs.SASL_JAAS_CONFIG + " names login module "
                    + entry.group(1) + "; the modules understood are " + LOGIN_MODULES);
        }
        Map<String, String> options = new HashMap<>();
        Matcher option = OPTION.matcher(entry.group(3));
        while (option.find()) {
            String value = option.group(2) != null ? option.group(2).replaceAll("\\\\(.)", "$1") : option.group(3);
            options.put(option.group(1), value);
        }
        return options;
    }
}
