package io.raftmq.metadata.jraft;

import com.alipay.sofa.jraft.storage.impl.RocksDBLogStorage;
import com.alipay.sofa.jraft.util.StorageOptionsFactory;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.ColumnFamilyOptions;

/**
 * The RocksDB settings of JRaft's log storage (the metadata log), sized for a log of small metadata
 * batches instead of JRaft's defaults, which are sized for a data log: a 128 MiB memtable per column
 * family (JRaft's {@code optimizeLevelStyleCompaction}), each with a prefix bloom filter of an eighth
 * of that which RocksDB allocates and zeroes when it creates the memtable (16 MiB resident per
 * column family, two column families, before a single entry), and a 512 MiB block cache.
 *
 * <p>Here: memtables of {@value #WRITE_BUFFER_BYTES} bytes (at most {@value #MAX_WRITE_BUFFERS}: one
 * taking writes, one being flushed), no memtable bloom filter (JRaft reads entries by index, and the
 * memtable's skip list finds them without one), a block cache of {@value #BLOCK_CACHE_BYTES} bytes.
 * Everything else stays JRaft's, durability included: JRaft still writes the WAL with
 * {@code sync} as {@code raft.sync} says; a memtable only holds what the WAL already has.
 *
 * <p>JRaft reads these from a JVM-wide registry ({@link StorageOptionsFactory}, keyed by the storage
 * class) that refuses a second registration: {@link #register()} registers them once per JVM (the
 * in-process test cluster starts several nodes in one), from any thread.
 */
final class RocksDBLogStorageOptions {
    static final long WRITE_BUFFER_BYTES = 4L << 20;
    static final int MAX_WRITE_BUFFERS = 2;
    static final long BLOCK_CACHE_BYTES = 8L << 20;

    static {
        // Class initialisation runs once per JVM, under the JVM's lock: the registration with it.
        StorageOptionsFactory.registerRocksDBColumnFamilyOptions(RocksDBLogStorage.class, columnFamilyOptions());
        StorageOptionsFactory.registerRocksDBTableFormatConfig(RocksDBLogStorage.class, tableConfig());
    }

    private RocksDBLogStorageOptions() {
    }

    /** Registers the settings with JRaft, the first time it is called in this JVM. */
    static void register() {
        // Nothing more: calling this initialises the class, whose static block registers.
    }

    static ColumnFamilyOptions columnFamilyOptions() {
        return StorageOptionsFactory.getDefaultRocksDBColumnFamilyOptions()
                .setWriteBufferSize(WRITE_BUFFER_BYTES)
                .setMaxWriteBufferNumber(MAX_WRITE_BUFFERS)
                .setMinWriteBufferNumberToMerge(1)
                .setMemtablePrefixBloomSizeRatio(0);
    }

    @SuppressWarnings("deprecation") // JRaft copies the table config through blockCacheSize(), not a Cache object
    static BlockBasedTableConfig tableConfig() {
        return StorageOptionsFactory.getDefaultRocksDBTableConfig().setBlockCacheSize(BLOCK_CACHE_BYTES);
    }
}
