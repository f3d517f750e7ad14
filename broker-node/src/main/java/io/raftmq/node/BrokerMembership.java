package io.raftmq.node;

import io.raftmq.common.FaultHandler;
import io.raftmq.common.Time;
import io.raftmq.metadata.client.BrokerLifecycleManager;
import io.raftmq.metadata.client.ControllerClient;
import io.raftmq.metadata.client.MetadataWatcher;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.protocol.common.Endpoint;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker role's place in the cluster: it follows the metadata log (a {@link MetadataWatcher} on
 * the controller voters) and keeps its registration alive (a {@link BrokerLifecycleManager}
 * heartbeating with the metadata offset it has applied). On a clean stop it asks for a controlled
 * shutdown first, so its leaderships move before it goes.
 *
 * <p>Life cycle: construct, {@link #start()}, {@link #close()}; called from the node's main thread.
 */
final class BrokerMembership implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerMembership.class);

    private final NodeConfig config;
    private final ControllerClient client;
    private final MetadataWatcher watcher;
    private final BrokerLifecycleManager lifecycle;

    BrokerMembership(NodeConfig config, Time time, FaultHandler faultHandler) {
        this.config = config;
        this.client = new ControllerClient(new ControllerClient.Options(config.controllerBootstrap(),
                config.sessionTimeoutMs() * 10, Math.max(500, config.sessionTimeoutMs()), 20));
        this.watcher = new MetadataWatcher(new MetadataWatcher.Options(config.nodeId(), config.controllerBootstrap(),
                50), (image, delta) -> { }, faultHandler);
        Endpoint endpoint = Endpoint.newBuilder()
                .setListener("grpc")
                .setHost(config.advertisedListener().host())
                .setPort(config.advertisedListener().port())
                .build();
        this.lifecycle = new BrokerLifecycleManager(new BrokerLifecycleManager.Options(config.nodeId(),
                UUID.randomUUID(), List.of(endpoint), config.rack(), config.heartbeatIntervalMs(),
                config.sessionTimeoutMs()), client, () -> watcher.image().offset(), time, faultHandler);
    }

    void start() {
        watcher.start();
        lifecycle.start();
    }

    MetadataImage image() {
        return watcher.image();
    }

    BrokerLifecycleManager lifecycle() {
        return lifecycle;
    }

    /** Asks the controller to move this broker's leaderships away and waits (bounded) for it. */
    void controlledShutdown() {
        long timeoutMs = config.controlledShutdownTimeoutMs();
        if (timeoutMs == 0 || lifecycle.state() == BrokerLifecycleManager.State.REGISTERING) {
            return;
        }
        LOG.info("[node {}] controlled shutdown: asking the controller to move this broker's leaderships",
                config.nodeId());
        try {
            lifecycle.controlledShutdown().get(timeoutMs, TimeUnit.MILLISECONDS);
            LOG.info("[node {}] controlled shutdown complete", config.nodeId());
        } catch (TimeoutException e) {
            LOG.warn("[node {}] controlled shutdown did not complete within {} ms; stopping anyway",
                    config.nodeId(), timeoutMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.warn("[node {}] controlled shutdown failed: {}; stopping anyway", config.nodeId(), e.toString());
        }
    }

    @Override
    public void close() {
        lifecycle.close();
        watcher.close();
        client.close();
    }
}
