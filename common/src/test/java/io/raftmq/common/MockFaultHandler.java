package io.raftmq.common;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records fatal faults instead of halting, so a test can assert that none happened ({@link
 * #assertNoFaults()}) or that one did.
 */
public final class MockFaultHandler implements FaultHandler {
    private static final Logger LOG = LoggerFactory.getLogger(MockFaultHandler.class);

    private final String who;
    private final List<RuntimeException> faults = new CopyOnWriteArrayList<>();

    public MockFaultHandler(String who) {
        this.who = who;
    }

    @Override
    public RuntimeException handleFault(String message, Throwable cause) {
        LOG.error("[{}] fatal fault (test handler, not halting): {}", who, message, cause);
        RuntimeException fault = new IllegalStateException("[" + who + "] " + message, cause);
        faults.add(fault);
        return fault;
    }

    public List<RuntimeException> faults() {
        return List.copyOf(faults);
    }

    /** Throws the first recorded fault, if any. */
    public void assertNoFaults() {
        if (!faults.isEmpty()) {
            throw new AssertionError(faults.size() + " fatal fault(s) on " + who, faults.get(0));
        }
    }
}
