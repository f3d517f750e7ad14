package io.raftmq.faults;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;

/**
 * The fault-injection suite (docs/RELIABILITY.md): {@code raftmq.faults.runs} randomized runs, run
 * {@code i} with seed {@code raftmq.faults.seed + i} (a new base seed each build unless given; it is
 * printed with the command that replays a run). A run's seed picks its fault among the types enabled
 * ({@code raftmq.faults.types}, default all that this machine can inject) and the rest of its
 * schedule. Each run is one dynamic test that fails on any violation of the checker's invariants,
 * except for fault types listed in {@code raftmq.faults.expectedToFail} (known holes), whose
 * violations are reported and the run marked aborted. At the end a table of fault type x runs x
 * outcome is printed and written to {@code raftmq.faults.report}. A failed run keeps its node logs
 * under {@code target/fault-runs/seed-S}; {@code raftmq.faults.keepLogs=true} keeps them for every run.
 * The namespaces have fixed names, so one suite runs per machine at a time;
 * {@code raftmq.faults.netns=false} runs the nodes on 127.0.0.1 instead (no network faults).
 */
class FaultSuiteIT {
    /** Fault -> [clean runs, runs with violations, skipped (1 if the machine cannot inject it), longest ack gap ms]. */
    private static final Map<FaultType, long[]> TABLE = new EnumMap<>(FaultType.class);
    private static final List<String> FAILURES = new ArrayList<>();
    private static long baseSeed;
    private static Netns net;
    private static String netUnavailable;

    @TestFactory
    @Timeout(value = 6, unit = java.util.concurrent.TimeUnit.HOURS)
    Stream<DynamicTest> faultRuns() throws IOException {
        int runs = Integer.getInteger("raftmq.faults.runs", 4);
        String seedProperty = System.getProperty("raftmq.faults.seed", "");
        baseSeed = seedProperty.isBlank() ? ThreadLocalRandom.current().nextLong(1L << 40) : Long.parseLong(seedProperty);
        Path faultfsScript = Path.of(System.getProperty("raftmq.faults.faultfs", "../deploy/faultfs/faultfs.py"));
        Set<FaultType> expectedToFail = types(System.getProperty("raftmq.faults.expectedToFail", ""), Set.of());
        Set<FaultType> requested = types(System.getProperty("raftmq.faults.types", ""),
                java.util.EnumSet.allOf(FaultType.class));

        if (!Boolean.parseBoolean(System.getProperty("raftmq.faults.netns", "true"))) {
            netUnavailable = "raftmq.faults.netns=false";
        } else {
            try {
                net = Netns.create(3);
            } catch (IOException e) {
                netUnavailable = e.getMessage();
            }
        }
        String faultfsUnavailable = FaultFs.unavailableReason(faultfsScript);
        List<FaultType> enabled = new ArrayList<>();
        for (FaultType t : requested) {
            String reason = t.needs == FaultType.Needs.NETNS ? netUnavailable
                    : t.needs == FaultType.Needs.FAULTFS ? faultfsUnavailable : null;
            if (reason == null) {
                enabled.add(t);
            } else {
                System.out.println("[fault-suite] skipping " + t + ": " + reason);
                TABLE.computeIfAbsent(t, k -> new long[4])[2]++;
            }
        }
        String typesArg = enabled.stream().map(Enum::name).collect(Collectors.joining(","));
        System.out.printf("[fault-suite] base seed %d, %d runs over %s; nodes %s%n", baseSeed, runs, typesArg,
                net != null ? "in network namespaces" : "on 127.0.0.1 (" + netUnavailable + ")");
        Assumptions.assumeFalse(enabled.isEmpty(), "no fault type can run here");
        Path root = Path.of("target", "fault-runs");
        return Stream.iterate(0, i -> i < runs, i -> i + 1).map(i -> {
            long seed = baseSeed + i;
            FaultType fault = enabled.get((int) Math.floorMod(seed, (long) enabled.size()));
            String replay = "-Draftmq.faults.seed=" + seed + " -Draftmq.faults.runs=1 -Draftmq.faults.types=" + typesArg;
            return DynamicTest.dynamicTest("run " + i + ": " + fault + " (seed " + seed + ")", () -> {
                System.out.printf("[fault-suite] run %d: %s, seed %d (replay: %s)%n", i, fault, seed, replay);
                Path dir = root.resolve("seed-" + seed);
                deleteTree(dir);
                FaultRun.Outcome outcome;
                try {
                    outcome = new FaultRun(seed, fault, dir, net, faultfsScript).run();
                } catch (Throwable t) {
                    TABLE.computeIfAbsent(fault, k -> new long[4])[1]++;
                    FAILURES.add(fault + " seed " + seed + ": the run broke: " + t);
                    throw t;
                }
                long[] row = TABLE.computeIfAbsent(fault, k -> new long[4]);
                row[3] = Math.max(row[3], outcome.longestAckGapMs());
                if (outcome.clean()) {
                    row[0]++;
                    if (Boolean.getBoolean("raftmq.faults.keepLogs")) {
                        deleteData(dir);
                    } else {
                        deleteTree(dir);
                    }
                    return;
                }
                row[1]++;
                String what = fault + " seed " + seed + " (" + outcome.action() + "): "
                        + (outcome.verdict() == null ? "no verdict" : outcome.verdict().summary())
                        + (outcome.availability().isEmpty() ? "" : "; " + String.join("; ", outcome.availability()));
                FAILURES.add(what);
                deleteData(dir);
                String detail = what + "\n  " + String.join("\n  ", outcome.verdict().problems())
                        + "\n  node logs: " + dir.toAbsolutePath() + "\n  replay: " + replay;
                if (expectedToFail.contains(fault)) {
                    Assumptions.abort("expected to fail (known hole): " + detail);
                }
                assertTrue(false, detail);
            });
        }).onClose(FaultSuiteIT::cleanup);
    }

    private static Set<FaultType> types(String list, Set<FaultType> ifEmpty) {
        if (list.isBlank()) {
            return ifEmpty;
        }
        return Arrays.stream(list.split(",")).map(String::trim).filter(s -> !s.isEmpty()).map(FaultType::valueOf)
                .collect(Collectors.toCollection(() -> java.util.EnumSet.noneOf(FaultType.class)));
    }

    private static void cleanup() {
        if (net != null) {
            net.close();
            net = null;
        }
    }

    @AfterAll
    static void report() throws IOException {
        cleanup();
        StringBuilder table = new StringBuilder();
        table.append("| fault | runs | clean | violations | longest ack gap | skipped |\n|---|---|---|---|---|---|\n");
        long[] total = new long[2];
        for (Map.Entry<FaultType, long[]> e : TABLE.entrySet()) {
            long[] r = e.getValue();
            table.append(String.format("| %s | %d | %d | %d | %s | %s |%n", e.getKey(), r[0] + r[1], r[0], r[1],
                    r[0] + r[1] > 0 ? String.format("%.1f s", r[3] / 1e3) : "", r[2] > 0 ? "yes (see log)" : ""));
            total[0] += r[0];
            total[1] += r[1];
        }
        table.append(String.format("| total | %d | %d | %d | | |%n", total[0] + total[1], total[0], total[1]));
        String text = "Fault suite, base seed " + baseSeed + "\n\n" + table
                + (FAILURES.isEmpty() ? "" : "\nViolations:\n- " + String.join("\n- ", FAILURES) + "\n");
        System.out.println("[fault-suite] results\n" + text);
        String report = System.getProperty("raftmq.faults.report", "");
        if (!report.isBlank()) {
            Files.createDirectories(Path.of(report).toAbsolutePath().getParent());
            Files.writeString(Path.of(report), text, StandardCharsets.UTF_8);
        }
    }

    /** Keeps the node logs of a failed run, drops its (large) data directories. */
    private static void deleteData(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> children = Files.list(dir)) {
            for (Path c : children.filter(c -> !c.getFileName().toString().endsWith(".log")).toList()) {
                if (Files.isDirectory(c) && !c.getFileName().toString().startsWith("data-")
                        && !c.getFileName().toString().startsWith("backing-")
                        && !c.getFileName().toString().startsWith("replica-")) {
                    continue;
                }
                deleteTree(c);
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }
}
