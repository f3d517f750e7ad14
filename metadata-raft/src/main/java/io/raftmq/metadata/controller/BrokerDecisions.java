package io.raftmq.metadata.controller;

import io.raftmq.common.ApiError;
import io.raftmq.common.Uuids;
import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.BrokerState;
import io.raftmq.metadata.image.MetadataDelta;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.protocol.common.Endpoint;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.BrokerHeartbeatRequest;
import io.raftmq.protocol.controller.BrokerHeartbeatResponse;
import io.raftmq.protocol.controller.RegisterBrokerRequest;
import io.raftmq.protocol.controller.RegisterBrokerResponse;
import io.raftmq.protocol.metadata.MetadataRecord;
import io.raftmq.protocol.metadata.RegisterBrokerRecord;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.UUID;

/**
 * Decisions about broker membership: registration, heartbeats (unfence, controlled shutdown) and
 * fencing brokers whose session expired. Pure functions of their inputs.
 */
final class BrokerDecisions {
    private BrokerDecisions() {}

    /** Whether a broker holds a live session, as the active controller tracks it in memory. */
    public interface SessionView {
        boolean hasLiveSession(int brokerId, long brokerEpoch, long nowMs);
    }

    static ControllerResult<RegisterBrokerResponse> registerBroker(
            MetadataImage image, SessionView sessions, RegisterBrokerRequest request, long nowMs) {
        ApiError invalid = validateRegistration(request);
        if (invalid.isFailure()) {
            return ControllerResult.withoutRecords(registerError(invalid));
        }
        int brokerId = request.getBrokerId();
        UUID incarnation = Uuids.fromProto(request.getIncarnationId());
        BrokerRegistration existing = image.broker(brokerId);
        if (existing != null && existing.incarnationId().equals(incarnation)) {
            // A retry of a registration that already committed (e.g. its reply was lost).
            return ControllerResult.withoutRecords(RegisterBrokerResponse.newBuilder()
                    .setError(ApiError.NONE.toProto())
                    .setBrokerEpoch(existing.epoch())
                    .build());
        }
        if (existing != null && sessions.hasLiveSession(brokerId, existing.epoch(), nowMs)) {
            return ControllerResult.withoutRecords(registerError(ApiError.of(ErrorCode.DUPLICATE_BROKER_REGISTRATION,
                    "broker id %d is held by another live process (incarnation %s, epoch %d); retry once its"
                            + " session expires", brokerId, existing.incarnationId(), existing.epoch())));
        }
        long epoch = image.highestBrokerEpoch() + 1;
        List<MetadataRecord> records = new ArrayList<>();
        records.add(MetadataRecord.newBuilder().setRegisterBroker(RegisterBrokerRecord.newBuilder()
                .setBrokerId(brokerId)
                .setBrokerEpoch(epoch)
                .setIncarnationId(request.getIncarnationId())
                .addAllEndpoints(request.getEndpointsList())
                .setRack(request.getRack())).build());
        if (existing != null) {
            // The previous process is gone; the new one starts fenced and must catch up before it
            // is in sync again, so it leaves every ISR and leadership the old one held.
            records.addAll(PartitionElection.removeBroker(image, brokerId));
        }
        return ControllerResult.of(records, RegisterBrokerResponse.newBuilder()
                .setError(ApiError.NONE.toProto())
                .setBrokerEpoch(epoch)
                .build());
    }

    private static ApiError validateRegistration(RegisterBrokerRequest request) {
        if (request.getBrokerId() < 0) {
            return ApiError.of(ErrorCode.INVALID_REQUEST, "broker id %d is negative", request.getBrokerId());
        }
        if (!request.hasIncarnationId() || Uuids.fromProto(request.getIncarnationId()).equals(Uuids.ZERO)) {
            return ApiError.of(ErrorCode.INVALID_REQUEST, "broker %d registered without an incarnation id",
                    request.getBrokerId());
        }
        if (request.getEndpointsCount() == 0) {
            return ApiError.of(ErrorCode.INVALID_REQUEST, "broker %d registered without endpoints",
                    request.getBrokerId());
        }
        for (Endpoint e : request.getEndpointsList()) {
            if (e.getHost().isBlank() || e.getPort() < 1 || e.getPort() > 65535) {
                return ApiError.of(ErrorCode.INVALID_REQUEST, "broker %d endpoint '%s' %s:%d needs a host and a port"
                        + " in 1-65535", request.getBrokerId(), e.getListener(), e.getHost(), e.getPort());
            }
        }
        return ApiError.NONE;
    }

    private static RegisterBrokerResponse registerError(ApiError error) {
        return RegisterBrokerResponse.newBuilder().setError(error.toProto()).build();
    }

    /**
     * A heartbeat from a broker whose session the controller has just refreshed.
     *
     * @param caughtUpOffset the metadata offset a broker in controlled shutdown must have applied
     *     before it may stop: the committed offset when nothing is in flight, else {@link
     *     Long#MAX_VALUE} (wait for the next heartbeat)
     */
    static ControllerResult<BrokerHeartbeatResponse> brokerHeartbeat(
            MetadataImage image, BrokerHeartbeatRequest request, long caughtUpOffset) {
        int brokerId = request.getBrokerId();
        ApiError invalid = validateBrokerEpoch(image, brokerId, request.getBrokerEpoch());
        if (invalid.isFailure()) {
            return ControllerResult.withoutRecords(
                    BrokerHeartbeatResponse.newBuilder().setError(invalid.toProto()).setIsFenced(true).build());
        }
        BrokerRegistration broker = image.broker(brokerId);
        List<MetadataRecord> records = new ArrayList<>();
        BrokerState state = broker.state();
        if (request.getWantShutDown() && state == BrokerState.UNFENCED) {
            records.add(Records.controlledShutdown(brokerId, broker.epoch()));
            records.addAll(PartitionElection.removeBroker(
                    MetadataDelta.replayBatch(image, MetadataImage.PENDING_OFFSET, records), brokerId));
            state = BrokerState.CONTROLLED_SHUTDOWN;
        } else if (!request.getWantShutDown() && state == BrokerState.FENCED
                && request.getMetadataOffset() >= broker.registrationOffset()) {
            records.add(Records.unfenceBroker(brokerId, broker.epoch()));
            records.addAll(PartitionElection.electOfflineLeaders(
                    MetadataDelta.replayBatch(image, MetadataImage.PENDING_OFFSET, records), brokerId));
            state = BrokerState.UNFENCED;
        }
        boolean shouldShutDown = request.getWantShutDown() && switch (state) {
            case FENCED -> true;
            case UNFENCED -> false;
            case CONTROLLED_SHUTDOWN -> records.isEmpty()
                    && !leadsAnyPartition(image, brokerId)
                    && request.getMetadataOffset() >= caughtUpOffset;
        };
        return ControllerResult.of(records, BrokerHeartbeatResponse.newBuilder()
                .setError(ApiError.NONE.toProto())
                .setIsFenced(state != BrokerState.UNFENCED)
                .setShouldShutDown(shouldShutDown)
                .build());
    }

    /** NONE, or BROKER_ID_NOT_REGISTERED / STALE_BROKER_EPOCH naming both epochs. */
    static ApiError validateBrokerEpoch(MetadataImage image, int brokerId, long brokerEpoch) {
        BrokerRegistration broker = image.broker(brokerId);
        if (broker == null) {
            return ApiError.of(ErrorCode.BROKER_ID_NOT_REGISTERED, "broker %d is not registered", brokerId);
        }
        if (broker.epoch() != brokerEpoch) {
            return ApiError.of(ErrorCode.STALE_BROKER_EPOCH,
                    "broker %d sent epoch %d, but its current registration has epoch %d", brokerId, brokerEpoch,
                    broker.epoch());
        }
        return ApiError.NONE;
    }

    /**
     * Fences brokers whose session expired: one atomic batch that, per broker, marks it fenced,
     * moves each partition it led to the next eligible ISR member and removes it from ISRs.
     * Brokers already fenced or unknown are skipped.
     */
    static ControllerResult<Void> fenceBrokers(MetadataImage image, Collection<Integer> brokerIds) {
        List<MetadataRecord> records = new ArrayList<>();
        MetadataImage current = image;
        for (int brokerId : brokerIds) {
            BrokerRegistration broker = current.broker(brokerId);
            if (broker == null || broker.isFenced()) {
                continue;
            }
            List<MetadataRecord> forBroker = new ArrayList<>();
            forBroker.add(Records.fenceBroker(brokerId, broker.epoch()));
            forBroker.addAll(PartitionElection.removeBroker(
                    MetadataDelta.replayBatch(current, MetadataImage.PENDING_OFFSET, forBroker), brokerId));
            current = MetadataDelta.replayBatch(current, MetadataImage.PENDING_OFFSET, forBroker);
            records.addAll(forBroker);
        }
        return ControllerResult.of(records, null);
    }

    /** What a broker is, for error messages: "not registered", "fenced", "shutting down" or "unfenced". */
    static String describeState(MetadataImage image, int brokerId) {
        BrokerRegistration broker = image.broker(brokerId);
        if (broker == null) {
            return "not registered";
        }
        return switch (broker.state()) {
            case FENCED -> "fenced";
            case CONTROLLED_SHUTDOWN -> "shutting down";
            case UNFENCED -> "unfenced";
        };
    }

    static boolean leadsAnyPartition(MetadataImage image, int brokerId) {
        for (TopicImage topic : image.topics()) {
            for (PartitionRegistration p : topic.partitions()) {
                if (p.leader() == brokerId) {
                    return true;
                }
            }
        }
        return false;
    }
}
