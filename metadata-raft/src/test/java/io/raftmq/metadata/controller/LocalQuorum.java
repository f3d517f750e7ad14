package io.raftmq.metadata.controller;

import io.raftmq.common.MockFaultHandler;
import io.raftmq.common.Time;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.loader.MetadataLoader;
import io.raftmq.metadata.loader.MetadataSubscriber;
import io.raftmq.metadata.log.LocalLogCluster;
import io.raftmq.metadata.log.LocalMetadataLog;
import io.raftmq.protocol.common.Endpoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;

/**
 * Voters on an in-memory metadata log: each with its loader and controller, as a real voter wires
 * them, without JRaft or gRPC. For tests of the controller's behaviour across leader changes.
 */
public final class LocalQuorum implements AutoCloseable {
    public final LocalLogCluster cluster;
    public final List<Voter> voters = new ArrayList<>();
    private final Time time;
    private final long sessionTimeoutMs;
    private final long takeoverSessionMs;
    private final long connectionLossGraceMs;
    private final Random random;
    private final List<MetadataSubscriber> observers;

    /** One voter: its log handle, loader and controller. */
    public static final class Voter {
        public final int nodeId;
        public final LocalMetadataLog log;
        public final MetadataLoader loader;
        public final QuorumController controller;
        public final MockFaultHandler faults;

        Voter(int nodeId, LocalMetadataLog log, MetadataLoader loader, QuorumController controller,
                MockFaultHandler faults) {
            this.nodeId = nodeId;
            this.log = log;
            this.loader = loader;
            this.controller = controller;
            this.faults = faults;
        }

        public MetadataImage image() {
            return loader.image();
        }
    }

    public LocalQuorum(int voterCount, Time time, long sessionTimeoutMs, long seed) {
        this(voterCount, time, sessionTimeoutMs, seed, List.of());
    }

    /** @param observers subscribed to every voter's loader, restarted voters included */
    public LocalQuorum(int voterCount, Time time, long sessionTimeoutMs, long seed,
            List<MetadataSubscriber> observers) {
        this(voterCount, time, sessionTimeoutMs, sessionTimeoutMs, seed, observers);
    }

    /** @param takeoverSessionMs the session a controller taking over grants every broker */
    public LocalQuorum(int voterCount, Time time, long sessionTimeoutMs, long takeoverSessionMs, long seed,
            List<MetadataSubscriber> observers) {
        this(voterCount, time, sessionTimeoutMs, takeoverSessionMs, sessionTimeoutMs, seed, observers);
    }

    /**
     * @param connectionLossGraceMs how long a broker whose heartbeat connection closed has to
     *     heartbeat again (the session timeout: a closed connection changes nothing)
     */
    public LocalQuorum(int voterCount, Time time, long sessionTimeoutMs, long takeoverSessionMs,
            long connectionLossGraceMs, long seed, List<MetadataSubscriber> observers) {
        this.cluster = new LocalLogCluster(voterCount);
        this.time = time;
        this.sessionTimeoutMs = sessionTimeoutMs;
        this.takeoverSessionMs = takeoverSessionMs;
        this.connectionLossGraceMs = connectionLossGraceMs;
        this.random = new Random(seed);
        this.observers = List.copyOf(observers);
        for (int id = 1; id <= voterCount; id++) {
            voters.add(startVoter(id));
        }
    }

    public Voter voter(int nodeId) {
        return voters.get(nodeId - 1);
    }

    /**
     * Stops a voter and starts a new one with the same id (it reloads from the shared log, from the
     * latest snapshot on). A restarted leader never resumes its epoch, as in Raft: the epoch ends.
     */
    public Voter restart(int nodeId) {
        if (cluster.leader().leaderId() == nodeId) {
            cluster.loseLeader();
        }
        Voter old = voter(nodeId);
        old.controller.close();
        old.log.close();
        old.faults.assertNoFaults();
        Voter fresh = startVoter(nodeId);
        voters.set(nodeId - 1, fresh);
        return fresh;
    }

    private Voter startVoter(int nodeId) {
        MockFaultHandler faults = new MockFaultHandler("node " + nodeId);
        LocalMetadataLog log = cluster.newLog(nodeId);
        MetadataLoader loader = new MetadataLoader(nodeId, faults);
        Random ids = new Random(random.nextLong());
        ControllerDecisions decisions = new ControllerDecisions(1, 3, () -> new UUID(ids.nextLong(), ids.nextLong()),
                () -> new UUID(ids.nextLong(), ids.nextLong()));
        QuorumController controller = new QuorumController(
                new QuorumController.Options(nodeId, endpoint(nodeId), sessionTimeoutMs, takeoverSessionMs, 1000, 0, 10,
                        connectionLossGraceMs),
                log, decisions, time, faults);
        loader.subscribe(controller);
        observers.forEach(loader::subscribe);
        controller.start();
        log.start(loader);
        return new Voter(nodeId, log, loader, controller, faults);
    }

    public static Endpoint endpoint(int nodeId) {
        return Endpoint.newBuilder().setListener("grpc").setHost("localhost").setPort(29000 + nodeId).build();
    }

    public void assertNoFaults() {
        voters.forEach(v -> v.faults.assertNoFaults());
    }

    @Override
    public void close() {
        for (Voter voter : voters) {
            voter.controller.close();
            voter.log.close();
        }
    }
}
