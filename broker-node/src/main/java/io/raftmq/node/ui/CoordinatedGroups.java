package io.raftmq.node.ui;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.raftmq.broker.group.GroupCoordinator;
import io.raftmq.protocol.broker.ListGroupsRequest;
import io.raftmq.protocol.broker.ListedGroup;
import io.raftmq.protocol.broker.OffsetFetchPartitionResponse;
import io.raftmq.protocol.broker.OffsetFetchRequest;
import io.raftmq.protocol.broker.OffsetFetchTopicResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The consumer groups this node's coordinator owns, for the web view: each group's state, type,
 * member count and committed offsets (lag is the page's: the partition leader's high watermark
 * minus the committed offset). Asked of the coordinator through its own API, as ListGroups,
 * DescribeGroups and OffsetFetch are; at most one refresh runs at a time.
 *
 * <p>Threads: {@link #refresh} from the web view's thread; the answer is assembled on the
 * coordinator's threads and published through a volatile reference; {@link #latest} from any thread.
 */
final class CoordinatedGroups {
    private final GroupCoordinator coordinator;
    private volatile JsonArray latest = new JsonArray();
    private volatile boolean refreshing;

    /** @param coordinator the broker's group coordinator, or null on a controller-only node */
    CoordinatedGroups(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    void refresh() {
        if (coordinator == null || refreshing) {
            return;
        }
        refreshing = true;
        coordinator.listGroups(ListGroupsRequest.getDefaultInstance())
                .thenCompose(list -> {
                    List<CompletableFuture<JsonObject>> groups = new ArrayList<>();
                    for (ListedGroup g : list.getGroupsList()) {
                        groups.add(describe(g));
                    }
                    return CompletableFuture.allOf(groups.toArray(CompletableFuture[]::new)).thenApply(done -> {
                        JsonArray out = new JsonArray();
                        groups.forEach(f -> out.add(f.join()));
                        return out;
                    });
                })
                .whenComplete((groups, error) -> {
                    if (groups != null) {
                        latest = groups;
                    }
                    refreshing = false;
                });
    }

    private CompletableFuture<JsonObject> describe(ListedGroup g) {
        String id = g.getGroupId();
        CompletableFuture<Integer> members = g.getGroupType().equalsIgnoreCase("consumer")
                ? coordinator.describeConsumerGroup(id).thenApply(d -> d.members().size())
                : coordinator.describeGroups(List.of(id)).thenApply(d -> d.isEmpty() ? 0 : d.get(0).members().size());
        CompletableFuture<JsonArray> offsets = coordinator.fetchOffsets(OffsetFetchRequest.newBuilder()
                .setGroupId(id).build()).thenApply(answer -> {
                    JsonArray out = new JsonArray();
                    for (OffsetFetchTopicResponse t : answer.getTopicsList()) {
                        for (OffsetFetchPartitionResponse p : t.getPartitionsList()) {
                            if (p.getCommittedOffset() >= 0) {
                                JsonObject offset = new JsonObject();
                                offset.addProperty("topic", t.getName());
                                offset.addProperty("partition", p.getPartition());
                                offset.addProperty("committed", p.getCommittedOffset());
                                out.add(offset);
                            }
                        }
                    }
                    return out;
                });
        return members.thenCombine(offsets, (count, committed) -> {
            JsonObject group = new JsonObject();
            group.addProperty("id", id);
            group.addProperty("state", g.getState());
            group.addProperty("type", g.getGroupType());
            group.addProperty("members", count);
            group.add("offsets", committed);
            return group;
        });
    }

    /** The newest answer (empty before the first); do not modify. */
    JsonArray latest() {
        return latest;
    }
}
