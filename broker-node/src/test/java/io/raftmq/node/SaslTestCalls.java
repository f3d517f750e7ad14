package io.raftmq.node;

import static org.junit.jupiter.api.Assertions.assertFalse;

import com.google.protobuf.ByteString;
import io.grpc.CallCredentials;
import io.grpc.Channel;
import io.grpc.Metadata;
import io.grpc.stub.StreamObserver;
import io.raftmq.common.HostPort;
import io.raftmq.protocol.broker.AuthenticationGrpc;
import io.raftmq.protocol.broker.SaslAuthenticateRequest;
import io.raftmq.protocol.broker.SaslAuthenticateResponse;
import io.raftmq.protocol.rpc.SaslSessionHeaders;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/** Raw SaslAuthenticate exchanges and session headers, for the tests of the SASL gRPC ports. */
final class SaslTestCalls {
    private SaslTestCalls() {}

    /**
     * One SaslAuthenticate stream on {@code channel}: the first message names {@code mechanism} and
     * carries the first token, each further token goes with the mechanism named again (out of order
     * unless there is only one); every answer until the server ends the stream.
     */
    static List<SaslAuthenticateResponse> exchange(Channel channel, String mechanism, byte[]... tokens)
            throws Exception {
        List<SaslAuthenticateResponse> answers = new ArrayList<>();
        CompletableFuture<Void> ended = new CompletableFuture<>();
        StreamObserver<SaslAuthenticateRequest> requests = AuthenticationGrpc.newStub(channel)
                .saslAuthenticate(new StreamObserver<>() {
                    @Override
                    public void onNext(SaslAuthenticateResponse value) {
                        synchronized (answers) {
                            answers.add(value);
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        ended.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        ended.complete(null);
                    }
                });
        for (byte[] token : tokens) {
            requests.onNext(SaslAuthenticateRequest.newBuilder().setMechanism(mechanism)
                    .setToken(ByteString.copyFrom(token)).build());
        }
        ended.get(30, TimeUnit.SECONDS);
        synchronized (answers) {
            return List.copyOf(answers);
        }
    }

    static SaslAuthenticateResponse last(List<SaslAuthenticateResponse> answers) {
        assertFalse(answers.isEmpty());
        return answers.get(answers.size() - 1);
    }

    /** PLAIN's one token (RFC 4616). */
    static byte[] plain(String user, String password) {
        return ("\u0000" + user + "\u0000" + password).getBytes(StandardCharsets.UTF_8);
    }

    /** Sends node n's token (tokens.get(n - 1)) to node n, known by the port the call goes to. */
    static final class PerNodeSession extends CallCredentials {
        private final List<HostPort> addresses;
        private final List<String> tokens;

        PerNodeSession(List<HostPort> addresses, List<String> tokens) {
            this.addresses = addresses;
            this.tokens = tokens;
        }

        @Override
        public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
            String authority = info.getAuthority();
            int port = Integer.parseInt(authority.substring(authority.lastIndexOf(':') + 1));
            int node = 1;
            while (addresses.get(node - 1).port() != port) {
                node++;
            }
            Metadata headers = new Metadata();
            headers.put(SaslSessionHeaders.SESSION, tokens.get(node - 1));
            applier.apply(headers);
        }
    }
}
