package io.raftmq.client;

/** A broker's gRPC address. */
record BrokerAddress(String host, int port) {
    @Override
    public String toString() {
        return host + ":" + port;
    }
}
