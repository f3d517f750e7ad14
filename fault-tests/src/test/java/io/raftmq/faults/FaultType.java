package io.raftmq.faults;

/** The faults a run can inject, and what each needs from the machine. */
enum FaultType {
    /** kill -9 of partition 0's leader (never the active controller when it can be avoided). */
    KILL_LEADER(Needs.NOTHING, "kill -9 of a partition leader, restarted after the hold"),
    /** kill -9 of the active controller's node (also a broker and usually a partition leader). */
    KILL_CONTROLLER(Needs.NOTHING, "kill -9 of the active controller, restarted after the hold"),
    /** kill -9 of a node the seed picks. */
    KILL_ANY(Needs.NOTHING, "kill -9 of any node, restarted after the hold"),
    /** SIGSTOP of a partition leader for longer than the broker session, then SIGCONT (a zombie). */
    PAUSE_LEADER(Needs.NOTHING, "SIGSTOP of a partition leader past the session timeout, then SIGCONT"),
    /** A partition leader cut from both other nodes, both ways; clients still reach it. */
    CUT_LEADER(Needs.NETNS, "a partition leader cut from the other nodes (two-way), clients still reach it"),
    /** The consumer group coordinator's node cut from the other nodes, both ways; clients still reach it. */
    CUT_COORDINATOR(Needs.NETNS, "the group coordinator's node cut from the other nodes (two-way)"),
    /**
     * Both followers of a partition leader cannot reach its gRPC port (so cannot fetch from it); the
     * metadata quorum's traffic, the leader's own connections and the clients are untouched: the ISR
     * shrinks to the leader alone while the controller keeps its quorum.
     */
    CUT_REPLICATION(Needs.NETNS, "the followers' fetches to a partition leader dropped for longer than"
            + " replica.lag.time.max.ms (ISR shrinks to the leader; quorum and clients untouched)"),
    /** Two nodes the seed picks cut from each other, both ways. */
    CUT_PAIR(Needs.NETNS, "two nodes cut from each other (two-way)"),
    /** Packets from one node to another dropped, the other direction untouched. */
    CUT_ONE_WAY(Needs.NETNS, "one node's packets to another dropped (one-way)"),
    /** kill -9 of one node and loss of what it had not fsynced, then restart. */
    POWER_LOSS_ONE(Needs.FAULTFS, "power loss of one node: kill -9, un-fsynced writes dropped, restart"),
    /** The same on every node at once (flush.mode=group: nothing acknowledged may be lost). */
    POWER_LOSS_ALL(Needs.FAULTFS, "power loss of every replica at once (flush.mode=group)"),
    /** The same on a flush.mode=os topic: an acknowledged tail may be lost, as documented. */
    POWER_LOSS_ALL_OS(Needs.FAULTFS, "power loss of every replica at once (flush.mode=os)"),
    /** One node's disk fills up (ENOSPC), then space is freed. */
    DISK_FULL(Needs.FAULTFS, "disk full on one node (16-256 KiB left), then space freed"),
    /** fsync on a partition leader's node takes seconds. */
    FSYNC_STALL(Needs.FAULTFS, "fsync stalls for seconds on a partition leader's node");

    enum Needs { NOTHING, NETNS, FAULTFS }

    final Needs needs;
    final String description;

    FaultType(Needs needs, String description) {
        this.needs = needs;
        this.description = description;
    }
}
