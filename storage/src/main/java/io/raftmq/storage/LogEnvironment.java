package io.raftmq.storage;

import io.raftmq.common.Time;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.concurrent.ScheduledExecutorService;

/**
 * What a partition log needs from the process around it. One environment is shared by every log
 * of a broker.
 *
 * @param time the clock (segment age, retention, LogAppendTime)
 * @param scheduler runs fsyncs for group commit and interval flushes, and deletes old segment files
 *     after their delay; its threads bound how many fsyncs run at once
 * @param offlineListener told (once per log) when an I/O error takes a log offline
 * @param files opens segment files; a test seam for I/O faults
 */
public record LogEnvironment(Time time, ScheduledExecutorService scheduler, OfflineListener offlineListener,
        FileOpener files) {

    /** Told when a log goes offline. Called from the thread that hit the error; must not block. */
    public interface OfflineListener {
        void onOffline(Path logDir, IOException cause);
    }

    /** Opens a file channel. */
    public interface FileOpener {
        FileChannel open(Path path, OpenOption... options) throws IOException;
    }

    public LogEnvironment(Time time, ScheduledExecutorService scheduler, OfflineListener offlineListener) {
        this(time, scheduler, offlineListener, FileChannel::open);
    }
}
