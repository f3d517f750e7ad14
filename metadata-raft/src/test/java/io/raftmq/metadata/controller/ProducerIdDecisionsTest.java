package io.raftmq.metadata.controller;

import static io.raftmq.metadata.controller.TestImages.apply;
import static io.raftmq.metadata.controller.TestImages.assertError;
import static io.raftmq.metadata.controller.TestImages.unfencedBrokers;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.metadata.image.ImageRecords;
import io.raftmq.metadata.image.MetadataDelta;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.MetadataReplayException;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.AllocateProducerIdsRequest;
import io.raftmq.protocol.controller.AllocateProducerIdsResponse;
import io.raftmq.protocol.metadata.MetadataRecord;
import io.raftmq.protocol.metadata.ProducerIdsRecord;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProducerIdDecisionsTest {
    private final ControllerDecisions decisions = TestImages.decisions();

    private ControllerResult<AllocateProducerIdsResponse> allocate(MetadataImage image, int broker, long epoch) {
        return decisions.allocateProducerIds(image, AllocateProducerIdsRequest.newBuilder().setBrokerId(broker)
                .setBrokerEpoch(epoch).build());
    }

    @Test
    void consecutiveBlocksDoNotOverlapAndSurviveASnapshot() {
        MetadataImage image = unfencedBrokers(3);
        ControllerResult<AllocateProducerIdsResponse> first = allocate(image, 1, 1);
        assertEquals(ErrorCode.NONE, first.reply().getError().getCode());
        assertEquals(0, first.reply().getProducerIdStart());
        assertEquals(ProducerIdDecisions.BLOCK_SIZE, first.reply().getProducerIdLen());
        image = apply(image, first.records());
        assertEquals(ProducerIdDecisions.BLOCK_SIZE, image.nextProducerId());

        ControllerResult<AllocateProducerIdsResponse> second = allocate(image, 2, 2);
        assertEquals(ProducerIdDecisions.BLOCK_SIZE, second.reply().getProducerIdStart());
        image = apply(image, second.records());

        // A new controller starts from the committed image (or a snapshot of it).
        MetadataImage loaded = MetadataDelta.loadSnapshot(image.offset(), ImageRecords.of(image));
        assertEquals(image.nextProducerId(), loaded.nextProducerId());
        assertEquals(2L * ProducerIdDecisions.BLOCK_SIZE, allocate(loaded, 1, 1).reply().getProducerIdStart());
    }

    @Test
    void aStaleOrUnknownBrokerIsRefusedAndNothingIsRecorded() {
        MetadataImage image = unfencedBrokers(2);
        ControllerResult<AllocateProducerIdsResponse> stale = allocate(image, 2, 1);
        assertError(ErrorCode.STALE_BROKER_EPOCH, stale.reply().getError(), "broker 2", "epoch 1", "epoch 2");
        assertTrue(stale.records().isEmpty());
        ControllerResult<AllocateProducerIdsResponse> unknown = allocate(image, 9, 1);
        assertError(ErrorCode.BROKER_ID_NOT_REGISTERED, unknown.reply().getError(), "broker 9");
        assertTrue(unknown.records().isEmpty());
    }

    @Test
    void replayRefusesAnIdRangeThatGoesBack() {
        MetadataImage image = apply(unfencedBrokers(1), allocate(unfencedBrokers(1), 1, 1).records());
        MetadataRecord back = MetadataRecord.newBuilder().setProducerIds(ProducerIdsRecord.newBuilder()
                .setBrokerId(1).setBrokerEpoch(1).setNextProducerId(ProducerIdDecisions.BLOCK_SIZE)).build();
        assertThrows(MetadataReplayException.class, () -> apply(image, List.of(back)));
    }
}
