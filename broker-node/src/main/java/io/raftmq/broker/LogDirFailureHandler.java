package io.raftmq.broker;

import io.raftmq.storage.LogEnvironment;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What this broker does when a partition log goes offline after an I/O error (a disk error, disk
 * full, a failed fsync). A node has one data directory, so one failed log means its directory has
 * failed, as Kafka treats a broker whose every log directory failed: the broker stops acting for
 * its partitions. Rather than halt (which would also take a controller voter away on a combined
 * node and wait for the controller to notice), it asks the controller at once for a controlled
 * shutdown: in one metadata commit every partition it leads moves to another ISR member and it
 * leaves every ISR; then it stops heartbeating, so its session expires and it stays fenced until
 * the node is restarted on a working disk. Records acknowledged with acks=all are on the other ISR
 * members, so nothing acknowledged is lost. {@code /health} names the offline logs and why.
 *
 * <p>Threads: {@link #onOffline} runs on whichever thread hit the error (maybe holding a log's
 * lock), so it only records and enqueues; the offline map is concurrent, the first report is
 * claimed by a compare-and-set; readers take a copy.
 */
final class LogDirFailureHandler implements LogEnvironment.OfflineListener {
    private static final Logger LOG = LoggerFactory.getLogger(LogDirFailureHandler.class);

    private final int brokerId;
    private final Runnable stopActing;
    /** Log directory name to the I/O error that took it offline. */
    private final Map<String, String> offline = new ConcurrentHashMap<>();
    private final AtomicBoolean reported = new AtomicBoolean();

    /** @param stopActing asks the controller to move this broker's leaderships away; must not block */
    LogDirFailureHandler(int brokerId, Runnable stopActing) {
        this.brokerId = brokerId;
        this.stopActing = stopActing;
    }

    @Override
    public void onOffline(Path logDir, IOException cause) {
        String name = logDir.getFileName().toString();
        if (offline.putIfAbsent(name, String.valueOf(cause)) != null || !reported.compareAndSet(false, true)) {
            return; // the log said it went offline; the broker acted on the first one
        }
        LOG.error("[broker {}] the data directory {} failed (the log {} is offline: {}); asking the controller to"
                + " move this broker's leaderships and ISR memberships to other replicas; restart the node once the"
                + " disk is fixed", brokerId, logDir.toAbsolutePath().getParent(), name, cause.toString());
        stopActing.run();
    }

    /** The offline logs (directory name to cause), sorted; empty while the data directory works. */
    Map<String, String> offlineLogs() {
        return new TreeMap<>(offline);
    }
}
