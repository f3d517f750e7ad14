package io.raftmq.cli;

import io.raftmq.client.Admin;
import io.raftmq.client.AdminConfig;
import io.raftmq.client.errors.RaftmqException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * A partition's current leader as the cluster knows it, not as whichever broker answers first
 * knows it: every broker is asked (the bootstrap servers and the brokers the controller lists),
 * and the answer with the highest leader epoch wins (at equal epochs, one that names a leader). A
 * broker that is behind, or cut off from the controller, answers an older epoch or no leader, and
 * is outvoted by the brokers that are current; a broker that does not answer is skipped.
 *
 * <p>Each broker is asked through an {@link Admin} of its own with only that broker to call, so
 * the answer is that broker's, and on a thread of its own, so a broker that is down (each call to
 * it waits out its timeout) delays no answer from the others. Used by one command thread.
 */
final class LeaderView implements AutoCloseable {
    /** A broker that does not answer within this long is skipped for this look. */
    private static final String PER_BROKER_TIMEOUT_MS = "2000";

    /** The leader and its epoch; leader -1 when no broker named one. */
    record Leader(int leader, int leaderEpoch) {}

    private final Map<String, Admin> perBroker = new LinkedHashMap<>();
    private final ExecutorService askers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "leader-view");
        t.setDaemon(true);
        return t;
    });

    /** @param addresses gRPC host:port of brokers to ask (duplicates ignored) */
    LeaderView(List<String> addresses) {
        this(addresses, Map.of());
    }

    /** @param clientSettings further client settings (--command-config: TLS) */
    LeaderView(List<String> addresses, Map<String, String> clientSettings) {
        Set<String> distinct = new LinkedHashSet<>(addresses);
        for (String address : distinct) {
            AdminConfig.Builder config = AdminConfig.builder();
            clientSettings.forEach(config::set);
            perBroker.put(address, new Admin(config.bootstrapServers(address)
                    .clientId("raftmq-cli-leader-view").defaultApiTimeoutMs(Integer.parseInt(PER_BROKER_TIMEOUT_MS))
                    .build()));
        }
    }

    /** The brokers in {@code bootstrapServers} and those the controller lists (their gRPC endpoints). */
    static LeaderView of(String bootstrapServers, Map<String, String> clientSettings, AdminCalls admin) {
        List<String> addresses = new ArrayList<>(List.of(bootstrapServers.split(",")));
        for (Views.Broker b : admin.describeCluster().brokers()) {
            for (String endpoint : b.endpoints().split(", ")) {
                if (endpoint.startsWith("grpc ")) {
                    addresses.add(endpoint.substring("grpc ".length()));
                }
            }
        }
        return new LeaderView(addresses.stream().map(String::strip).filter(a -> !a.isEmpty()).toList(),
                clientSettings);
    }

    /** The highest-epoch answer for the partition; (-1, -1) when no broker answered. */
    Leader leaderOf(String topic, int partition) {
        List<CompletableFuture<Leader>> answers = new ArrayList<>();
        for (Admin admin : perBroker.values()) {
            answers.add(CompletableFuture.supplyAsync(() -> ask(admin, topic, partition), askers));
        }
        Leader best = NONE;
        for (CompletableFuture<Leader> answer : answers) {
            best = newer(answer.join(), best) ? answer.join() : best;
        }
        return best;
    }

    /**
     * Waits until some broker names a leader at an epoch above {@code epoch} (only the controller
     * makes epochs, so one such answer is enough), polling every broker on its own; null when
     * none did within {@code timeoutMs}.
     */
    Leader awaitNewerThan(String topic, int partition, int epoch, long timeoutMs) throws InterruptedException {
        CompletableFuture<Leader> found = new CompletableFuture<>();
        long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        for (Admin admin : perBroker.values()) {
            askers.execute(() -> {
                while (!found.isDone() && System.nanoTime() < deadlineNs) {
                    Leader l = ask(admin, topic, partition);
                    if (l.leader() >= 0 && l.leaderEpoch() > epoch) {
                        found.complete(l);
                        return;
                    }
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10)); // the polling interval
                }
            });
        }
        try {
            return found.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return null;
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        } finally {
            found.complete(null); // stops the pollers
        }
    }

    private static final Leader NONE = new Leader(-1, -1);

    /** One broker's answer, or {@link #NONE} when it gave none. */
    private static Leader ask(Admin admin, String topic, int partition) {
        try {
            for (Admin.PartitionDescription p : admin.describeTopics(List.of(topic)).get(topic).partitions()) {
                if (p.partition() == partition) {
                    return new Leader(p.leader(), p.leaderEpoch());
                }
            }
        } catch (RaftmqException e) {
            // down, cut off from its clients, or slow: the others answer
        }
        return NONE;
    }

    private static boolean newer(Leader candidate, Leader best) {
        return candidate.leaderEpoch() > best.leaderEpoch()
                || (candidate.leaderEpoch() == best.leaderEpoch() && best.leader() < 0 && candidate.leader() >= 0);
    }

    @Override
    public void close() {
        askers.shutdownNow();
        perBroker.values().forEach(Admin::close);
    }
}
