package io.raftmq.client;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fault injection: the first Produce request reaches the broker (which appends), but its answer
 * never reaches the producer, which sees UNAVAILABLE instead and retries. On a ProduceStream the
 * stream breaks there (the answer is lost with the connection): the call is cancelled and the
 * producer sees UNAVAILABLE for it.
 */
final class DropFirstProduceAnswer implements ClientInterceptor {
    final AtomicInteger dropped = new AtomicInteger();

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        ClientCall<Q, R> call = next.newCall(method, options);
        if (method.getFullMethodName().endsWith("/ProduceStream") && dropped.get() == 0) {
            return breakAtFirstAnswer(call);
        }
        if (!method.getFullMethodName().endsWith("/Produce") || dropped.get() > 0) {
            return call;
        }
        return new ForwardingClientCall.SimpleForwardingClientCall<>(call) {
            @Override
            public void start(Listener<R> listener, Metadata headers) {
                super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                    private boolean swallowed;

                    @Override
                    public void onMessage(R message) {
                        if (dropped.compareAndSet(0, 1)) {
                            swallowed = true;
                            return;
                        }
                        super.onMessage(message);
                    }

                    @Override
                    public void onClose(Status status, Metadata trailers) {
                        super.onClose(swallowed ? Status.UNAVAILABLE.withDescription("answer dropped by the test")
                                : status, trailers);
                    }
                }, headers);
            }
        };
    }

    private <Q, R> ClientCall<Q, R> breakAtFirstAnswer(ClientCall<Q, R> call) {
        return new ForwardingClientCall.SimpleForwardingClientCall<>(call) {
            @Override
            public void start(Listener<R> listener, Metadata headers) {
                ClientCall<Q, R> real = delegate();
                super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                    private volatile boolean broken;

                    @Override
                    public void onMessage(R message) {
                        if (broken) {
                            return;
                        }
                        if (dropped.compareAndSet(0, 1)) {
                            broken = true;
                            real.cancel("the test drops the answer", null);
                            super.onClose(Status.UNAVAILABLE.withDescription("answer dropped by the test"),
                                    new Metadata());
                            return;
                        }
                        super.onMessage(message);
                    }

                    @Override
                    public void onClose(Status status, Metadata trailers) {
                        if (!broken) {
                            super.onClose(status, trailers);
                        }
                    }
                }, headers);
            }
        };
    }
}
