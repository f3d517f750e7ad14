package io.raftmq.metadata.jraft;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.alipay.sofa.jraft.storage.impl.RocksDBLogStorage;
import com.alipay.sofa.jraft.util.StorageOptionsFactory;
import org.junit.jupiter.api.Test;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.ColumnFamilyOptions;

class RocksDBLogStorageOptionsTest {

    @Test
    void jraftLogStorageGetsSmallMemtablesWithoutBloomFilter() {
        RocksDBLogStorageOptions.register();

        // What RocksDBLogStorage asks JRaft's registry for when it opens its database (no group: JRaft
        // keys options by group only when its raft options ask for per-group RocksDB options).
        try (ColumnFamilyOptions options = StorageOptionsFactory.getRocksDBColumnFamilyOptions(null,
                RocksDBLogStorage.class)) {
            assertEquals(4L << 20, options.writeBufferSize());
            assertEquals(2, options.maxWriteBufferNumber());
            assertEquals(1, options.minWriteBufferNumberToMerge());
            assertEquals(0.0, options.memtablePrefixBloomSizeRatio());
        }
        BlockBasedTableConfig table = StorageOptionsFactory.getRocksDBTableFormatConfig(null,
                RocksDBLogStorage.class);
        @SuppressWarnings("deprecation") // JRaft copies the table config through this getter
        long blockCacheBytes = table.blockCacheSize();
        assertEquals(8L << 20, blockCacheBytes);
    }

    @Test
    void registeringAgainInTheSameJvmIsHarmless() {
        // The in-process cluster starts several metadata logs in one JVM, and JRaft's registry
        // refuses a second registration of the same class: only the first call may register.
        RocksDBLogStorageOptions.register();
        assertDoesNotThrow(RocksDBLogStorageOptions::register);
    }
}
