package io.raftmq.node;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.Deadline;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A broker's link to the controller quorum that a test can cut, installed on every channel the
 * broker role opens to the controllers (heartbeats, the metadata watch, forwarded admin calls). Cut,
 * it behaves as a network that drops everything: calls in progress end (as a connection that the
 * keepalive gives up on), and new calls get no answer at all until their deadline (a call without
 * one, like the metadata watch, hangs until the link heals). Healed, new calls go through and the
 * hanging ones end UNAVAILABLE, so their callers reconnect. The broker's clients, its followers
 * and its Raft traffic are not affected: only what the broker sends to the controllers.
 *
 * <p>Thread-safe. Calls' listeners are told on this class's own thread, never on the caller's.
 */
public final class ControllerLinkCut implements ClientInterceptor, AutoCloseable {
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "controller-link-cut");
        t.setDaemon(true);
        return t;
    });
    private final Set<ClientCall<?, ?>> open = ConcurrentHashMap.newKeySet();
    private final Set<Held<?, ?>> held = ConcurrentHashMap.newKeySet();
    private volatile boolean cut;

    /** Drops everything from now on. */
    public void cut() {
        cut = true;
        for (ClientCall<?, ?> call : open) {
            call.cancel("the link to the controller was cut", null);
        }
    }

    /** Lets calls through again; calls that hung while cut end UNAVAILABLE. */
    public void heal() {
        cut = false;
        for (Held<?, ?> call : held) {
            call.close(Status.UNAVAILABLE.withDescription("the link to the controller was cut"));
        }
    }

    public boolean isCut() {
        return cut;
    }

    @Override
    public void close() {
        heal();
        timer.shutdown();
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        if (cut) {
            return new Held<>(options.getDeadline());
        }
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
            @Override
            public void start(Listener<R> listener, Metadata headers) {
                ClientCall<Q, R> self = this;
                open.add(self);
                super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                    @Override
                    public void onClose(Status status, Metadata trailers) {
                        open.remove(self);
                        super.onClose(status, trailers);
                    }
                }, headers);
                if (cut) { // cut while starting
                    cancel("the link to the controller was cut", null);
                }
            }
        };
    }

    /** A call that never reaches the controller: it ends at its deadline, when cancelled, or when the link heals. */
    private final class Held<Q, R> extends ClientCall<Q, R> {
        private final Deadline deadline;
        private final AtomicBoolean closed = new AtomicBoolean();
        private volatile Listener<R> listener;

        Held(Deadline deadline) {
            this.deadline = deadline;
        }

        @Override
        public void start(Listener<R> responseListener, Metadata headers) {
            listener = responseListener;
            held.add(this);
            if (deadline != null) {
                timer.schedule(() -> close(Status.DEADLINE_EXCEEDED.withDescription("no answer: the link to the"
                        + " controller is cut")), Math.max(0, deadline.timeRemaining(TimeUnit.MILLISECONDS)),
                        TimeUnit.MILLISECONDS);
            }
            if (!cut) {
                close(Status.UNAVAILABLE.withDescription("the link to the controller was cut"));
            }
        }

        void close(Status status) {
            if (listener == null || !closed.compareAndSet(false, true)) {
                return;
            }
            held.remove(this);
            try {
                timer.execute(() -> listener.onClose(status, new Metadata()));
            } catch (RejectedExecutionException closedAlready) {
                listener.onClose(status, new Metadata());
            }
        }

        @Override
        public void request(int numMessages) {
        }

        @Override
        public void cancel(String message, Throwable cause) {
            close(Status.CANCELLED.withDescription(message).withCause(cause));
        }

        @Override
        public void halfClose() {
        }

        @Override
        public void sendMessage(Q message) {
        }
    }
}
