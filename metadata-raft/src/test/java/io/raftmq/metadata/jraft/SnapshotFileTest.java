package io.raftmq.metadata.jraft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.metadata.image.ImageRecords;
import io.raftmq.metadata.image.MetadataDelta;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.protocol.common.Endpoint;
import io.raftmq.protocol.metadata.ControllerChangeRecord;
import io.raftmq.protocol.metadata.MetadataRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotFileTest {
    @TempDir
    Path dir;

    private static List<MetadataRecord> records(int n) {
        List<MetadataRecord> out = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            out.add(MetadataRecord.newBuilder().setControllerChange(ControllerChangeRecord.newBuilder()
                    .setControllerId(i % 3).setControllerEpoch(i).setEndpoint(Endpoint.newBuilder()
                            .setHost("host-" + i).setPort(9000 + i))).build());
        }
        return out;
    }

    @Test
    void writesAndReadsBack() throws IOException {
        Path file = dir.resolve(SnapshotFile.NAME);
        SnapshotFile.write(file, 1234, records(500));
        SnapshotFile.Contents contents = SnapshotFile.read(file);
        assertEquals(1234, contents.offset());
        assertEquals(records(500), contents.records());

        SnapshotFile.write(file, -1, List.of());
        assertEquals(List.of(), SnapshotFile.read(file).records());
        assertEquals(MetadataImage.EMPTY, MetadataDelta.loadSnapshot(-1, ImageRecords.of(MetadataImage.EMPTY)));
    }

    @Test
    void everyTruncationAndEveryFlippedByteIsDetected() throws IOException {
        Path file = dir.resolve(SnapshotFile.NAME);
        SnapshotFile.write(file, 7, records(20));
        byte[] good = Files.readAllBytes(file);
        for (int length = 0; length < good.length; length++) {
            Files.write(file, Arrays.copyOf(good, length));
            assertThrows(IOException.class, () -> SnapshotFile.read(file), "truncated to " + length);
        }
        Random random = new Random(7);
        for (int i = 0; i < good.length; i++) {
            byte[] bad = good.clone();
            bad[i] ^= (byte) (1 + random.nextInt(255));
            Files.write(file, bad);
            IOException e = assertThrows(IOException.class, () -> SnapshotFile.read(file), "byte " + i);
            assertTrue(e.getMessage().contains(file.toString()));
        }
    }
}
