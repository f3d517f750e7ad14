package io.raftmq.node.ui;

import com.google.gson.JsonObject;
import io.raftmq.broker.ClientTraffic;

/**
 * This node's client traffic per second, from the differences of {@link ClientTraffic}'s totals
 * between two samples: produce and fetch bytes/s and records/s, requests/s.
 *
 * <p>Threads: {@link #sample} from the web view's thread only; {@link #latest} from any thread
 * (an immutable object behind a volatile reference).
 */
final class TrafficRates {
    private final ClientTraffic traffic;
    // Owned by the web view's thread.
    private ClientTraffic.Totals lastTotals;
    private long lastNs;
    private volatile JsonObject latest = rates(0, 0, 0, 0, 0, 0, 0);

    /** @param traffic the broker's counters, or null on a controller-only node (all rates 0) */
    TrafficRates(ClientTraffic traffic) {
        this.traffic = traffic;
    }

    void sample(long nowMs, long nowNs) {
        if (traffic == null) {
            latest = rates(nowMs, 0, 0, 0, 0, 0, 0);
            return;
        }
        ClientTraffic.Totals totals = traffic.totals();
        if (lastTotals != null && nowNs > lastNs) {
            double seconds = (nowNs - lastNs) / 1e9;
            latest = rates(nowMs,
                    (totals.produceBytes() - lastTotals.produceBytes()) / seconds,
                    (totals.produceRecords() - lastTotals.produceRecords()) / seconds,
                    (totals.fetchBytes() - lastTotals.fetchBytes()) / seconds,
                    (totals.fetchRecords() - lastTotals.fetchRecords()) / seconds,
                    (totals.produceRequests() - lastTotals.produceRequests()) / seconds,
                    (totals.fetchRequests() - lastTotals.fetchRequests()) / seconds);
        }
        lastTotals = totals;
        lastNs = nowNs;
    }

    /** The newest per-second rates; do not modify. */
    JsonObject latest() {
        return latest;
    }

    private static JsonObject rates(long timeMs, double produceBytes, double produceRecords, double fetchBytes,
            double fetchRecords, double produceRequests, double fetchRequests) {
        JsonObject out = new JsonObject();
        out.addProperty("timeMs", timeMs);
        out.addProperty("produceBytes", Math.round(produceBytes));
        out.addProperty("produceRecords", Math.round(produceRecords));
        out.addProperty("fetchBytes", Math.round(fetchBytes));
        out.addProperty("fetchRecords", Math.round(fetchRecords));
        out.addProperty("requests", Math.round(produceRequests + fetchRequests));
        return out;
    }
}
