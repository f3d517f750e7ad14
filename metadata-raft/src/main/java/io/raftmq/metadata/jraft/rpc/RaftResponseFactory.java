package io.raftmq.metadata.jraft.rpc;

import com.alipay.sofa.jraft.rpc.RpcRequests;
import com.alipay.sofa.jraft.rpc.RpcResponseFactory;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Message;

/**
 * Error answers of the right type. Every Raft method has one response type, so an error is that
 * type with its {@code errorResponse} field set (field {@value #ERROR_RESPONSE_NUM}, present in
 * every JRaft response, read by JRaft's client service); a bare {@link RpcRequests.ErrorResponse}
 * is only the answer to Ping. JRaft's default factory answers a bare ErrorResponse to everything,
 * which bolt carries but a typed method cannot. Stateless.
 */
final class RaftResponseFactory implements RpcResponseFactory {
    static final RaftResponseFactory INSTANCE = new RaftResponseFactory();

    private RaftResponseFactory() {}

    @Override
    public Message newResponse(Message parent, int code, String fmt, Object... args) {
        RpcRequests.ErrorResponse.Builder error = RpcRequests.ErrorResponse.newBuilder().setErrorCode(code);
        if (fmt != null) {
            error.setErrorMsg(String.format(fmt, args));
        }
        return parent == null ? error.build() : as(parent, error.build());
    }

    /**
     * {@code response} if it is of {@code responseType}'s type; an error answer of that type if it
     * is a bare ErrorResponse; null if neither.
     */
    static Message as(Message responseType, Message response) {
        if (response.getDescriptorForType() == responseType.getDescriptorForType()) {
            return response;
        }
        if (!(response instanceof RpcRequests.ErrorResponse)) {
            return null;
        }
        Descriptors.FieldDescriptor errorField = responseType.getDescriptorForType()
                .findFieldByNumber(ERROR_RESPONSE_NUM);
        if (errorField == null) {
            return null;
        }
        Message.Builder answer = responseType.toBuilder().setField(errorField, response);
        // JRaft's responses are proto2 with required fields (term, success): an error answer gets
        // their defaults, or the peer could not parse it. JRaft's client reads errorResponse first.
        for (Descriptors.FieldDescriptor field : answer.getDescriptorForType().getFields()) {
            if (field.isRequired() && !answer.hasField(field)
                    && field.getJavaType() != Descriptors.FieldDescriptor.JavaType.MESSAGE) {
                answer.setField(field, field.getDefaultValue());
            }
        }
        return answer.build();
    }
}
