package io.raftmq.metadata.image;

import io.raftmq.protocol.common.Endpoint;

/**
 * The voter that last announced itself as active controller (ControllerChangeRecord). It may
 * have lost leadership since; the Raft layer knows the current leader, this says where to reach
 * it when it is this one.
 */
public record ControllerRegistration(int controllerId, long controllerEpoch, Endpoint endpoint) {}
