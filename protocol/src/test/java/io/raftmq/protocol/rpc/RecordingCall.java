package io.raftmq.protocol.rpc;

import io.grpc.stub.ServerCallStreamObserver;
import java.util.ArrayList;
import java.util.List;

/** A server call that records what is written to it. */
final class RecordingCall extends ServerCallStreamObserver<String> {
    final List<String> written = new ArrayList<>();
    boolean completed;
    volatile boolean cancelled;

    @Override
    public boolean isCancelled() {
        return cancelled;
    }

    @Override
    public void setOnCancelHandler(Runnable handler) {
    }

    @Override
    public void setCompression(String compression) {
    }

    @Override
    public boolean isReady() {
        return true;
    }

    @Override
    public void setOnReadyHandler(Runnable handler) {
    }

    @Override
    public void disableAutoInboundFlowControl() {
    }

    @Override
    public void request(int count) {
    }

    @Override
    public void setMessageCompression(boolean enable) {
    }

    @Override
    public void onNext(String value) {
        written.add(value);
    }

    @Override
    public void onError(Throwable t) {
    }

    @Override
    public void onCompleted() {
        completed = true;
    }
}
