package io.raftmq.metadata.node;

import io.raftmq.common.HostPort;
import io.raftmq.common.MockFaultHandler;
import io.raftmq.common.Time;
import io.raftmq.metadata.client.BrokerLifecycleManager;
import io.raftmq.metadata.client.ControllerClient;
import io.raftmq.metadata.client.MetadataWatcher;
import io.raftmq.protocol.common.Endpoint;
import java.util.List;
import java.util.UUID;

/**
 * The metadata side of a broker, for tests: follows metadata with a {@link MetadataWatcher} and
 * keeps its membership with a {@link BrokerLifecycleManager}, as a real broker does.
 */
public final class TestBroker implements AutoCloseable {
    public final int brokerId;
    public final MetadataWatcher watcher;
    public final BrokerLifecycleManager lifecycle;
    public final MockFaultHandler faults;
    private final ControllerClient client;

    public TestBroker(int brokerId, List<HostPort> voters, long heartbeatIntervalMs, long sessionTimeoutMs) {
        this.brokerId = brokerId;
        this.faults = new MockFaultHandler("broker " + brokerId);
        this.client = new ControllerClient(ControllerClient.Options.defaults(voters));
        this.watcher = new MetadataWatcher(new MetadataWatcher.Options(brokerId, voters, 50),
                (image, delta) -> { }, faults);
        Endpoint endpoint = Endpoint.newBuilder().setListener("grpc").setHost("127.0.0.1")
                .setPort(40000 + brokerId).build();
        this.lifecycle = new BrokerLifecycleManager(new BrokerLifecycleManager.Options(brokerId, UUID.randomUUID(),
                List.of(endpoint), "", heartbeatIntervalMs, sessionTimeoutMs, heartbeatIntervalMs), client,
                () -> watcher.image().offset(), Time.SYSTEM, faults);
    }

    public TestBroker start() {
        watcher.start();
        lifecycle.start();
        return this;
    }

    @Override
    public void close() {
        lifecycle.close();
        watcher.close();
        client.close();
    }
}
