package io.raftmq.protocol.rpc;

import com.google.protobuf.ByteString;
import io.grpc.CallCredentials;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.raftmq.protocol.broker.AuthenticationGrpc;
import io.raftmq.protocol.broker.SaslAuthenticateRequest;
import io.raftmq.protocol.broker.SaslAuthenticateResponse;
import io.raftmq.protocol.common.ErrorCode;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A caller's SASL session with one node's SASL gRPC port (an SDK client's with a broker, or a node's
 * with another node on a SASL_PLAINTEXT port): authenticates on first use with the SaslAuthenticate
 * stream (raftmq/broker/v1/sasl.proto), keeps the session token the node issues, and puts it in the
 * {@link SaslSessionHeaders#SESSION} header of every other call on the node's channel ({@link
 * #interceptor()}). It authenticates again once {@link #REFRESH_FRACTION} of the token's lifetime has
 * passed, and when the node answers that it does not know the token (it expired, or the node
 * restarted): that call fails retriably (UNAUTHENTICATED with {@link
 * SaslSessionHeaders#UNKNOWN_SESSION}), and the retry authenticates first. A refused authentication
 * fails the calls waiting for it at once, UNAUTHENTICATED, with the {@link Failures#refused} exception
 * as the status's cause.
 *
 * <p>Thread-safe: the token, its refresh time and the exchange under way are guarded by this
 * object's monitor. Tokens are applied without blocking from any thread (gRPC's CallCredentials
 * may run on an event loop); the exchange's callbacks and its SCRAM computation run on {@code
 * executor}, never on an event loop.
 */
public final class SaslSession {
    /** Authenticate again once this much of a token's lifetime has passed, before it expires. */
    public static final double REFRESH_FRACTION = 0.75;
    private static final String SASL_AUTHENTICATE = AuthenticationGrpc.getSaslAuthenticateMethod()
            .getFullMethodName();

    /** How the caller's failures are typed: the SDK's exceptions, or gRPC statuses on a node. */
    public interface Failures {
        /**
         * The exception for a refused exchange: the node's error answer ({@code code} and its message),
         * or this side's refusal of the node's tokens ({@code cause} set).
         */
        RuntimeException refused(ErrorCode code, String message, Throwable cause);

        /** The exception for an exchange that failed in transport (the node not reached, a deadline). */
        RuntimeException failed(Throwable transportFailure);

        /** Whether {@code failure}, one of the two above, refuses the credentials (so calls fail UNAUTHENTICATED). */
        boolean isRefusal(Throwable failure);
    }

    private final String node;
    private final SaslLogin login;
    private final long timeoutMs;
    private final Executor executor;
    private final LongSupplier clockMs;
    private final Failures failures;
    // Guarded by this.
    private String token;
    private long refreshAtMs;
    private CompletableFuture<String> pending;

    /**
     * @param node the node's address, for messages
     * @param timeoutMs how long one exchange may take
     * @param executor runs the exchange's callbacks
     */
    public SaslSession(String node, SaslLogin login, long timeoutMs, Executor executor, LongSupplier clockMs,
            Failures failures) {
        this.node = node;
        this.login = login;
        this.timeoutMs = timeoutMs;
        this.executor = executor;
        this.clockMs = clockMs;
        this.failures = failures;
    }

    /** Adds the session token to every call but SaslAuthenticate on the channel it intercepts. */
    public ClientInterceptor interceptor() {
        return new TokenInterceptor();
    }

    /**
     * The token to send: the cached one while fresh, else the outcome of an exchange (the one under
     * way, or a new one on {@code channel}).
     */
    synchronized CompletableFuture<String> token(Channel channel) {
        if (token != null && clockMs.getAsLong() < refreshAtMs) {
            return CompletableFuture.completedFuture(token);
        }
        if (pending == null) {
            CompletableFuture<String> exchange = new Exchange().start(channel, clockMs.getAsLong());
            pending = exchange;
            // May run at once (and clear pending) when the exchange failed before any answer.
            exchange.whenComplete((t, failure) -> finished(exchange));
            return exchange;
        }
        return pending;
    }

    private synchronized void finished(CompletableFuture<String> exchange) {
        if (pending == exchange) {
            pending = null;
        }
    }

    private synchronized void issued(String newToken, long startedMs, long lifetimeMs) {
        token = newToken;
        refreshAtMs = startedMs + (long) (lifetimeMs * REFRESH_FRACTION);
    }

    /** Drops {@code stale} (the node does not know it) so that the next call authenticates again. */
    synchronized void forget(String stale) {
        if (stale.equals(token)) {
            token = null;
        }
    }

    /** One SaslAuthenticate stream; gRPC serializes its callbacks (on {@code executor}). */
    private final class Exchange implements ClientResponseObserver<SaslAuthenticateRequest, SaslAuthenticateResponse> {
        private final CompletableFuture<String> result = new CompletableFuture<>();
        private final SaslMechanismClient mechanism = SaslMechanismClient.of(login);
        private ClientCallStreamObserver<SaslAuthenticateRequest> requests;
        private long startedMs;

        /** Opens the stream and sends the first token; does not block. */
        CompletableFuture<String> start(Channel channel, long startedMs) {
            this.startedMs = startedMs;
            AuthenticationGrpc.newStub(channel).withExecutor(executor)
                    .withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS).saslAuthenticate(this);
            send(SaslAuthenticateRequest.newBuilder().setMechanism(login.mechanism())
                    .setToken(ByteString.copyFrom(mechanism.firstToken())).build());
            return result;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<SaslAuthenticateRequest> stream) {
            requests = stream;
        }

        private void send(SaslAuthenticateRequest request) {
            try {
                requests.onNext(request);
            } catch (RuntimeException e) {
                result.completeExceptionally(failures.failed(e));
                requests.cancel("cannot send a SASL token", e);
            }
        }

        @Override
        public void onNext(SaslAuthenticateResponse response) {
            if (result.isDone()) {
                return;
            }
            ErrorCode code = response.getError().getCode();
            try {
                if (code != ErrorCode.NONE) {
                    result.completeExceptionally(failures.refused(code, "SASL " + login.mechanism()
                            + " authentication of " + login.username() + " with " + node + " failed: "
                            + response.getError().getMessage(), null));
                } else if (response.getComplete()) {
                    mechanism.complete(response.getToken().toByteArray());
                    issued(response.getSessionToken(), startedMs, response.getSessionLifetimeMs());
                    result.complete(response.getSessionToken());
                    requests.onCompleted();
                } else {
                    send(SaslAuthenticateRequest.newBuilder()
                            .setToken(ByteString.copyFrom(mechanism.respond(response.getToken().toByteArray())))
                            .build());
                }
            } catch (SaslMechanismClient.Refusal e) {
                result.completeExceptionally(failures.refused(e.code, "SASL " + login.mechanism()
                        + " authentication of " + login.username() + " with " + node + " failed: " + e.getMessage(), e));
                requests.cancel(e.getMessage(), e);
            }
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(failures.failed(t));
        }

        @Override
        public void onCompleted() {
            result.completeExceptionally(failures.failed(Status.UNAVAILABLE.withDescription(node
                    + " ended the SASL exchange without an answer").asRuntimeException()));
        }
    }

    /** Attaches {@link SessionCredentials} to each call, and forgets a token the node does not know. */
    private final class TokenInterceptor implements ClientInterceptor {
        @Override
        public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options,
                Channel next) {
            if (method.getFullMethodName().equals(SASL_AUTHENTICATE)) {
                return next.newCall(method, options);
            }
            SessionCredentials credentials = new SessionCredentials(next);
            return new ForwardingClientCall.SimpleForwardingClientCall<>(
                    next.newCall(method, options.withCallCredentials(credentials))) {
                @Override
                public void start(Listener<R> listener, Metadata headers) {
                    super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                        @Override
                        public void onClose(Status status, Metadata trailers) {
                            String applied = credentials.applied;
                            if (status.getCode() == Status.Code.UNAUTHENTICATED && applied != null
                                    && SaslSessionHeaders.UNKNOWN_SESSION.equals(
                                            trailers.get(SaslSessionHeaders.REFUSAL))) {
                                forget(applied);
                            }
                            super.onClose(status, trailers);
                        }
                    }, headers);
                }
            };
        }
    }

    /** One call's session header; never blocks (it completes when the token is there). */
    private final class SessionCredentials extends CallCredentials {
        private final Channel channel;
        /** The token this call sent; written before the call starts, read when it closes. */
        private volatile String applied;

        SessionCredentials(Channel channel) {
            this.channel = channel;
        }

        @Override
        public void applyRequestMetadata(RequestInfo info, Executor appExecutor, MetadataApplier applier) {
            token(channel).whenComplete((sessionToken, failure) -> {
                if (failure == null) {
                    applied = sessionToken;
                    Metadata headers = new Metadata();
                    headers.put(SaslSessionHeaders.SESSION, sessionToken);
                    applier.apply(headers);
                } else {
                    // The cause travels to the caller: the typed refusal, or a retriable failure to
                    // reach the node.
                    applier.fail((failures.isRefusal(failure) ? Status.UNAUTHENTICATED : Status.UNAVAILABLE)
                            .withDescription(failure.getMessage()).withCause(failure));
                }
            });
        }
    }
}
