package io.raftmq.metadata.controller;

import io.raftmq.metadata.image.ControllerRegistration;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.log.LeaderAndEpoch;
import io.raftmq.protocol.controller.ControllerHint;

/** Who the active controller is, from the quorum's leader and the last ControllerChangeRecord. */
public final class ControllerHints {
    private ControllerHints() {}

    /**
     * The leader's id, with its endpoint when the image's last announcement is from the same node
     * (its announcement may not have committed yet right after an election).
     */
    public static ControllerHint of(LeaderAndEpoch leader, MetadataImage image) {
        ControllerHint.Builder hint = ControllerHint.newBuilder().setControllerId(leader.leaderId());
        ControllerRegistration announced = image.controller();
        if (leader.hasLeader() && announced != null && announced.controllerId() == leader.leaderId()) {
            hint.setEndpoint(announced.endpoint());
        }
        return hint.build();
    }
}
