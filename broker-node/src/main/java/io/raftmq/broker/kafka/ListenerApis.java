package io.raftmq.broker.kafka;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersion;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersionCollection;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiVersionsRequest;

/**
 * The APIs a listener serves: the handler's {@link KafkaRequestHandler#apis()}, checked once, plus
 * the ones the connections answer themselves over every version this Kafka release knows (an entry
 * for them in the handler's list is replaced by that range): ApiVersions, SaslHandshake and
 * SaslAuthenticate, advertised on every listener as Kafka does (on one without SASL, or after
 * authentication, they are answered ILLEGAL_SASL_STATE). Immutable; shared by all connections of
 * a listener.
 */
final class ListenerApis {
    /** ApiVersions' own entry: 0 to the newest version kafka-clients can parse. */
    static final ApiVersion API_VERSIONS_RANGE = range(ApiKeys.API_VERSIONS);

    /** The keys the connection answers itself: never handed to the handler. */
    static boolean isConnectionLevel(ApiKeys key) {
        return key == ApiKeys.API_VERSIONS || key == ApiKeys.SASL_HANDSHAKE || key == ApiKeys.SASL_AUTHENTICATE;
    }

    private static ApiVersion range(ApiKeys key) {
        return new ApiVersion().setApiKey(key.id).setMinVersion(key.oldestVersion()).setMaxVersion(key.latestVersion());
    }

    private final List<ApiVersion> advertised;
    // By api key id; -1 where the key is not served.
    private final short[] minVersion;
    private final short[] maxVersion;

    /**
     * @throws IllegalArgumentException when an entry names an unknown key, lists a key twice, or
     *     has versions outside what this Kafka release defines as stable for the key
     */
    ListenerApis(List<ApiVersion> handlerApis) {
        int size = 0;
        for (ApiKeys key : ApiKeys.values()) {
            size = Math.max(size, key.id + 1);
        }
        minVersion = new short[size];
        maxVersion = new short[size];
        Arrays.fill(minVersion, (short) -1);
        Arrays.fill(maxVersion, (short) -1);
        List<ApiVersion> list = new ArrayList<>();
        for (ApiVersion api : handlerApis) {
            short id = api.apiKey();
            if (!ApiKeys.hasId(id) || !ApiKeys.forId(id).hasValidVersion()) {
                throw new IllegalArgumentException("the handler lists api key " + id + ", which this kafka-clients"
                        + " does not define");
            }
            ApiKeys key = ApiKeys.forId(id);
            if (isConnectionLevel(key)) {
                continue;
            }
            if (minVersion[id] >= 0) {
                throw new IllegalArgumentException("the handler lists " + key + " twice: " + minVersion[id] + ".."
                        + maxVersion[id] + " and " + api.minVersion() + ".." + api.maxVersion());
            }
            if (api.minVersion() < key.oldestVersion() || api.maxVersion() > key.latestVersion()
                    || api.minVersion() > api.maxVersion()) {
                throw new IllegalArgumentException("the handler lists " + key + " versions " + api.minVersion()
                        + ".." + api.maxVersion() + "; this kafka-clients defines " + key.oldestVersion()
                        + ".." + key.latestVersion());
            }
            minVersion[id] = api.minVersion();
            maxVersion[id] = api.maxVersion();
            list.add(new ApiVersion().setApiKey(id).setMinVersion(api.minVersion()).setMaxVersion(api.maxVersion()));
        }
        list.add(API_VERSIONS_RANGE.duplicate());
        list.add(range(ApiKeys.SASL_HANDSHAKE));
        list.add(range(ApiKeys.SASL_AUTHENTICATE));
        list.sort(Comparator.comparingInt(ApiVersion::apiKey));
        advertised = List.copyOf(list);
    }

    /** Whether requests of {@code key} at {@code version} go to the handler (never a connection-level key). */
    boolean isHandled(ApiKeys key, short version) {
        return !isConnectionLevel(key) && version >= 0 && minVersion[key.id] >= 0 && version >= minVersion[key.id]
                && version <= maxVersion[key.id];
    }

    /** What ApiVersions advertises, sorted by key. */
    List<ApiVersion> advertised() {
        return advertised;
    }

    /**
     * The answer to an ApiVersions request at a version this release knows (the caller parsed it):
     * every API served, or INVALID_REQUEST when a v3+ request names its client software in a way
     * Kafka refuses (KIP-511).
     */
    ApiVersionsResponseData answer(ApiVersionsRequestData request, short version) {
        if (!new ApiVersionsRequest(request, version).isValid()) {
            return new ApiVersionsResponseData().setErrorCode(Errors.INVALID_REQUEST.code()).setThrottleTimeMs(0);
        }
        // A fresh collection each time: an ApiVersion is linked into one collection at a time.
        ApiVersionCollection keys = new ApiVersionCollection(advertised.size());
        for (ApiVersion api : advertised) {
            keys.add(api.duplicate());
        }
        return new ApiVersionsResponseData().setErrorCode(Errors.NONE.code()).setApiKeys(keys).setThrottleTimeMs(0)
                .setFinalizedFeaturesEpoch(-1).setZkMigrationReady(false);
    }

    /**
     * Kafka's answer to an ApiVersions version it does not know, to be written at version 0: the
     * error and ApiVersions' own range, from which the client picks a version to retry with.
     */
    static ApiVersionsResponseData unsupportedVersionAnswer() {
        ApiVersionCollection keys = new ApiVersionCollection(1);
        keys.add(API_VERSIONS_RANGE.duplicate());
        return new ApiVersionsResponseData().setErrorCode(Errors.UNSUPPORTED_VERSION.code()).setApiKeys(keys);
    }
}
