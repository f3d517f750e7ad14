package io.raftmq.node.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.grpc.Context;
import io.raftmq.common.config.Config;
import io.raftmq.common.tls.NodeTls;
import io.raftmq.common.tls.TestCertificates;
import java.security.cert.X509Certificate;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.junit.jupiter.api.Test;

class GrpcPrincipalTest {
    private static final TestCertificates CERTS = TestCertificates.shared();

    @Test
    void aClientCertificateIsTheUserNamedByItsSubjectAsKafkaMapsIt() {
        X509Certificate alice = NodeTls.load(new Config(CERTS.storeConfig(CERTS.clientKeystore("alice")),
                NodeTls.KEYS)).certificate();
        assertEquals(new KafkaPrincipal(KafkaPrincipal.USER_TYPE, "CN=alice"), GrpcPrincipal.of(alice));
    }

    @Test
    void noCertificateIsAnonymousAndSoIsACallWithoutAPrincipal() {
        assertEquals(KafkaPrincipal.ANONYMOUS, GrpcPrincipal.of(null));
        assertEquals(KafkaPrincipal.ANONYMOUS, GrpcPrincipal.current());
    }

    @Test
    void theCallsContextCarriesItsPrincipal() throws Exception {
        KafkaPrincipal bob = new KafkaPrincipal(KafkaPrincipal.USER_TYPE, "CN=bob");
        assertEquals(bob, GrpcPrincipal.withPrincipal(Context.current(), bob).call(GrpcPrincipal::current));
    }
}
