package io.raftmq.metadata.controller;

import static io.raftmq.metadata.controller.TestImages.apply;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.protocol.common.Endpoint;
import io.raftmq.protocol.metadata.MetadataRecord;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The cluster id: Kafka's format, chosen in the first controller's takeover batch only. */
class ClusterIdTest {
    private static final Endpoint ENDPOINT = Endpoint.newBuilder().setListener("grpc").setHost("c1").setPort(9093)
            .build();

    @Test
    void formatIsKafkasUrlSafeBase64WithoutPadding() {
        // What org.apache.kafka.common.Uuid.toString() prints for the same two longs.
        assertEquals("AAAAAAAAAAAAAAAAAAAAAQ", ClusterIds.format(new UUID(0, 1)));
        assertEquals("_____________________w", ClusterIds.format(new UUID(-1, -1)));
        assertEquals("ASNFZ4mrze8BI0VniavN7w", ClusterIds.format(new UUID(0x0123456789abcdefL, 0x0123456789abcdefL)));
    }

    @Test
    void randomIdsFollowKafkasRules() {
        Pattern kafkaForm = Pattern.compile("[A-Za-z0-9_-]{22}");
        for (int i = 0; i < 200; i++) {
            String id = ClusterIds.format(ClusterIds.random());
            assertTrue(kafkaForm.matcher(id).matches(), id);
            assertFalse(id.startsWith("-"), id);
        }
    }

    @Test
    void theFirstTakeoverChoosesTheIdAndLaterOnesKeepIt() {
        ControllerDecisions decisions = TestImages.decisions();
        List<MetadataRecord> first = decisions.takeover(MetadataImage.EMPTY, 1, 1, ENDPOINT).records();
        assertEquals(2, first.size());
        assertTrue(first.get(0).hasControllerChange(), "the announcement comes first");
        String id = first.get(1).getClusterId().getClusterId();
        assertEquals(ClusterIds.format(new UUID(0xc1, 1)), id, "from the injected source");
        MetadataImage image = apply(MetadataImage.EMPTY, first);
        assertEquals(id, image.clusterId());

        List<MetadataRecord> second = decisions.takeover(image, 2, 2, ENDPOINT).records();
        assertEquals(1, second.size(), "an image with an id gets only the announcement");
        assertTrue(second.get(0).hasControllerChange());
        assertEquals(id, apply(image, second).clusterId());
    }
}
