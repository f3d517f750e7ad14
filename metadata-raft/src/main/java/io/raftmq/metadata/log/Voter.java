package io.raftmq.metadata.log;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A voter of the metadata quorum and its Raft address, as listed in {@code
 * controller.quorum.voters} ({@code id@host:port,...}).
 */
public record Voter(int nodeId, String host, int port) {

    /**
     * Parses {@code 1@host1:9095,2@host2:9095,...}.
     *
     * @throws IllegalArgumentException naming the bad entry
     */
    public static List<Voter> parseList(String text) {
        List<Voter> voters = new ArrayList<>();
        Set<Integer> ids = new HashSet<>();
        for (String raw : text.split(",")) {
            String entry = raw.trim();
            if (entry.isEmpty()) {
                continue;
            }
            int at = entry.indexOf('@');
            int colon = entry.lastIndexOf(':');
            if (at <= 0 || colon <= at + 1 || colon == entry.length() - 1) {
                throw new IllegalArgumentException("voter '" + entry + "' is not of the form id@host:port");
            }
            int id;
            int port;
            try {
                id = Integer.parseInt(entry.substring(0, at));
                port = Integer.parseInt(entry.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("voter '" + entry + "' is not of the form id@host:port");
            }
            if (id < 0) {
                throw new IllegalArgumentException("voter '" + entry + "' has a negative node id");
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("voter '" + entry + "' has port " + port + " outside 1-65535");
            }
            if (!ids.add(id)) {
                throw new IllegalArgumentException("node id " + id + " is listed twice among the voters");
            }
            voters.add(new Voter(id, entry.substring(at + 1, colon), port));
        }
        if (voters.isEmpty()) {
            throw new IllegalArgumentException("no voters listed");
        }
        voters.sort(Comparator.comparingInt(Voter::nodeId));
        return List.copyOf(voters);
    }

    public String address() {
        return host + ":" + port;
    }

    @Override
    public String toString() {
        return nodeId + "@" + address();
    }
}
