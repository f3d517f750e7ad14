package io.raftmq.client;

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
import io.raftmq.protocol.rpc.SaslSessionHeaders;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A client's SASL session with one broker (security.protocol=SASL_SSL): authenticates on first use
 * with the SaslAuthenticate stream (raftmq/broker/v1/sasl.proto), keeps the session token the
 * broker issues, and puts it in the {@code raftmq-session} header of every other call on the
 * broker's channel ({@link #interceptor()}). It authenticates again once {@link #REFRESH_FRACTION}
 * of the token's lifetime has passed, and when the broker answers that it does not know the token
 * (it expired, or the broker restarted): that call fails retriably (NETWORK_EXCEPTION), and the
 * retry authenticates first. A refused authentication fails the calls waiting for it with {@link
 * SaslAuthenticationException}, at once.
 *
 * <p>Thread-safe: the token, its refresh time and the exchange under way are guarded by this
 * object's monitor. Tokens are applied without blocking from any thread (gRPC's CallCredentials
 * may run on an event loop); the exchange's callbacks and its SCRAM computation run on {@code
 * executor}, never on an event loop.
 */
final class SaslSession {
    /** Authenticate again once this much of a token's lifetime has passed, before it expires. */
    static final double REFRESH_FRACTION = 0.75;
    private static final String SASL_AUTHENTICATE = AuthenticationGrpc.getSaslAuthenticateMethod()
            .getFullMethodName();

    private final BrokerAddress broker;
    private final ClientSasl.Login login;
    private final long timeoutMs;
    private final Executor executor;
    private final LongSupplier clockMs;
    // Guarded by this.
    private String token;
    private long refreshAtMs;
    private CompletableFuture<String> pending;

    /**
     * @param timeoutMs how long one exchange may take (request.timeout.ms)
     * @param executor runs the exchange's callbacks
     */
    SaslSession(BrokerAddress broker, ClientSasl.Login login, long timeoutMs, Executor executor, LongSupplier clockMs) {
        this.broker = broker;
        this.login = login;
        this.timeoutMs = timeoutMs;
        this.executor = executor;
        this.clockMs = clockMs;
    }

    /** Adds the session token to every call but SaslAuthenticate on the channel it intercepts. */
    ClientInterceptor interceptor() {
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

    /** Drops {@code stale} (the broker does not know it) so that the next call authenticates again. */
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
                fail(Errors.fromThrowable(e));
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
                    String message = "SASL " + login.mechanism() + " authentication of " + login.username()
                            + " with broker " + broker + " failed: " + response.getError().getMessage();
                    fail(code == ErrorCode.SASL_AUTHENTICATION_FAILED || code == ErrorCode.UNSUPPORTED_SASL_MECHANISM
                            ? new SaslAuthenticationException(code, message) : Errors.exception(code, message));
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
            } catch (SaslAuthenticationException e) {
                fail(e);
                requests.cancel(e.getMessage(), e);
            }
        }

        @Override
        public void onError(Throwable t) {
            fail(Errors.fromThrowable(t));
        }

        @Override
        public void onCompleted() {
            fail(new NetworkException(ErrorCode.NETWORK_EXCEPTION, "broker " + broker + " ended the SASL exchange"
                    + " without an answer"));
        }

        private void fail(RaftmqException e) {
            result.completeExceptionally(e);
        }
    }

    /** Attaches {@link SessionCredentials} to each call, and forgets a token the broker does not know. */
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
                    RaftmqException e = Errors.fromThrowable(failure);
                    // The cause travels to the caller (Errors.fromThrowable finds it): the typed
                    // refusal, or a retriable failure to reach the broker.
                    applier.fail((e instanceof AuthenticationException ? Status.UNAUTHENTICATED : Status.UNAVAILABLE)
                            .withDescription(e.getMessage()).withCause(e));
                }
            });
        }
    }
}
