package io.raftmq.faults;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The nodes' data directories on faultfs ({@code deploy/faultfs/faultfs.py}), a FUSE file system
 * that can lose what was not fsynced, run out of space, and stall or fail fsync. Its contract:
 * {@code python3 faultfs.py BACKING MOUNTPOINT} runs in the foreground and prints
 * {@code faultfs ready} once mounted; a line written to {@code MOUNTPOINT/.faultfs} controls it
 * ({@code drop-unsynced}, {@code capacity BYTES}, {@code fsync-delay MS}, {@code fsync-fail on|off},
 * {@code heal}); {@code fusermount3 -u} unmounts. {@link #unavailableReason} says why the faults that
 * need it must be skipped (script absent, no FUSE); {@link #close()} unmounts everything, also from
 * a shutdown hook.
 *
 * <p>Threads: called from the test thread only.
 */
final class FaultFs implements AutoCloseable {
    private final Path script;
    private final List<Path> mounts = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();
    private final Thread hook = new Thread(this::close, "faultfs-cleanup");
    private boolean closed;

    FaultFs(Path script) {
        this.script = script;
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Null when faultfs can run here, else why not. */
    static String unavailableReason(Path script) {
        if (script == null || !Files.isRegularFile(script)) {
            return "faultfs is absent (" + script + ")";
        }
        if (!Files.exists(Path.of("/dev/fuse"))) {
            return "no /dev/fuse";
        }
        if (!Files.isExecutable(Path.of("/usr/bin/fusermount3")) && !Files.isExecutable(Path.of("/bin/fusermount3"))) {
            return "no fusermount3";
        }
        try {
            // faultfs imports its FUSE binding (fusepy) before it parses arguments.
            Commands.run(List.of("python3", script.toString(), "--help"));
        } catch (IOException e) {
            return "faultfs cannot run here: " + e.getMessage();
        }
        return null;
    }

    /** Mounts faultfs over {@code backing} at {@code mountpoint}; throws if it is not ready in 30 s. */
    Path mount(Path backing, Path mountpoint) throws IOException {
        Files.createDirectories(backing);
        Files.createDirectories(mountpoint);
        Process p = new ProcessBuilder("python3", script.toString(), backing.toString(), mountpoint.toString())
                .redirectErrorStream(true).start();
        processes.add(p);
        mounts.add(mountpoint);
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String> ready = CompletableFuture.supplyAsync(() -> {
            StringBuilder seen = new StringBuilder();
            try {
                for (String line; (line = out.readLine()) != null; ) {
                    if (line.contains("faultfs ready")) {
                        drain(out);
                        return null;
                    }
                    seen.append(line).append('\n');
                }
            } catch (IOException e) {
                seen.append(e);
            }
            return "faultfs exited before it was ready: " + seen;
        });
        try {
            String failure = ready.get(30, TimeUnit.SECONDS);
            if (failure != null) {
                throw new IOException(failure);
            }
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IOException("faultfs not ready within 30 s at " + mountpoint);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IOException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        return mountpoint;
    }

    private static void drain(BufferedReader out) {
        Thread t = new Thread(() -> {
            try {
                while (out.readLine() != null) {
                    // faultfs's own log is not needed; its status is read through .faultfs.
                }
            } catch (IOException e) {
                // Unmounted.
            }
        }, "faultfs-output");
        t.setDaemon(true);
        t.start();
    }

    /** Writes one control line ({@code drop-unsynced}, {@code capacity N}, ...) to the mount. */
    static void control(Path mountpoint, String line) throws IOException {
        Files.writeString(mountpoint.resolve(".faultfs"), line + "\n", StandardCharsets.UTF_8);
    }

    /** The file system's own status (json). */
    static String status(Path mountpoint) {
        try {
            return Files.readString(mountpoint.resolve(".faultfs"), StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            return "unreadable: " + e;
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Path m : mounts) {
            Commands.quietly(List.of("fusermount3", "-u", m.toString()));
            Commands.quietly(List.of("fusermount3", "-uz", m.toString()));
        }
        for (Process p : processes) {
            p.destroyForcibly();
        }
        if (Thread.currentThread() != hook) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // Shutting down already.
            }
        }
    }
}
