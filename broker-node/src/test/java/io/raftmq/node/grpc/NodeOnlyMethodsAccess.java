package io.raftmq.node.grpc;

/** Lets tests outside this package read {@link NodeOnlyMethods#standard()}. */
public final class NodeOnlyMethodsAccess {
    private static final NodeOnlyMethods STANDARD = NodeOnlyMethods.standard();

    private NodeOnlyMethodsAccess() {}

    public static boolean isClassified(String fullMethodName) {
        return STANDARD.isClassified(fullMethodName);
    }

    public static boolean isClientMethod(String fullMethodName) {
        return STANDARD.isClientMethod(fullMethodName);
    }
}
