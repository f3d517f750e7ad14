package io.raftmq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.raftmq.common.HostPort;
import io.raftmq.common.tls.TestCertificates;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three nodes whose Kafka listeners are SSL with ssl.client.auth=requested, with Kafka's own
 * clients: an Admin with server authentication only (no client certificate) creates a topic, a
 * producer and a consumer group with a client certificate (mutual TLS) write and read it, kcat with
 * a client keystore does too, and a plaintext client is closed at the handshake. (Which principal a
 * certificate gives, and the refusal of untrusted and expired certificates under
 * ssl.client.auth=required, are checked against the listener alone in KafkaListenerTlsTest.)
 */
@Timeout(180)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KafkaTlsIntegrationTest {
    private static final TestCertificates CERTS = TestCertificates.shared();
    private static final String TOPIC = "tls-topic";

    @TempDir
    static Path dir;
    private static InProcessCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        cluster = new InProcessCluster(3, dir, Map.of("kafka.listener.security.protocol", "SSL",
                "ssl.client.auth", "requested"));
        cluster.startAll();
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
            cluster.assertNoFaults();
        }
    }

    @Test
    @Order(1)
    void serverAuthenticationOnlyAdminCreatesATopic() throws Exception {
        try (Admin admin = Admin.create(client(null))) {
            assertEquals(3, admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size());
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 3))).all().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    @Order(2)
    void mutualTlsProducerAndConsumer() throws Exception {
        Map<String, Object> producerConfig = client(CERTS.clientKeystore("alice"));
        producerConfig.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        producerConfig.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerConfig)) {
            for (int i = 0; i < 100; i++) {
                producer.send(new ProducerRecord<>(TOPIC, "k" + i, "v" + i));
            }
            producer.flush();
            producer.send(new ProducerRecord<>(TOPIC, "k100", "v100")).get(30, TimeUnit.SECONDS);
        }
        Map<String, Object> consumerConfig = client(CERTS.clientKeystore("alice"));
        consumerConfig.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        consumerConfig.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        consumerConfig.put(ConsumerConfig.GROUP_ID_CONFIG, "tls-group");
        consumerConfig.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerConfig)) {
            consumer.subscribe(List.of(TOPIC));
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    values.add(record.value());
                }
                return values.size() >= 101;
            });
            consumer.commitSync(Duration.ofSeconds(30));
        }
        assertEquals("v0", values.get(0));
        assertEquals("v100", values.get(100));
    }

    @Test
    @Order(3)
    void kcatWithAClientKeystore() throws Exception {
        assumeTrue(Kcat.isInstalled(), "kcat is not installed");
        List<String> common = List.of("-b", cluster.kafkaAddresses().get(1).toString(),
                "-X", "security.protocol=SSL", "-X", "ssl.ca.location=" + CERTS.caPem(),
                "-X", "ssl.keystore.location=" + CERTS.clientKeystore("kcat-user"),
                "-X", "ssl.keystore.password=" + CERTS.password(), "-t", "kcat-tls", "-p", "0");
        try (Admin admin = Admin.create(client(null))) {
            admin.createTopics(List.of(new NewTopic("kcat-tls", 1, (short) 3))).all().get(30, TimeUnit.SECONDS);
        }
        List<String> produce = new ArrayList<>(common);
        produce.add("-P");
        Kcat.run(produce, "over-mtls\n", 60);
        List<String> consume = new ArrayList<>(common);
        consume.addAll(List.of("-C", "-o", "beginning", "-e", "-q"));
        assertEquals("over-mtls\n", Kcat.run(consume, "", 60));
    }

    @Test
    @Order(4)
    void plaintextClientIsClosedAtTheHandshake() throws Exception {
        HostPort kafka = cluster.kafkaAddresses().get(0);
        long before = cluster.node(1).broker().kafkaStats().authenticationsFailed();
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(kafka.host(), kafka.port()), 5_000);
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            // An ApiVersions v0 request in plaintext: size, api key 18, version 0, correlation id 1, no client id.
            out.write(new byte[] {0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 1, -1, -1});
            out.flush();
            InputStream in = socket.getInputStream();
            int read;
            try {
                // Whatever TLS alert comes first, then the end of the stream.
                do {
                    read = in.read(new byte[1024]);
                } while (read > 0);
            } catch (SocketException reset) {
                read = -1;
            }
            assertEquals(-1, read);
        }
        await().atMost(Duration.ofSeconds(10))
                .until(() -> cluster.node(1).broker().kafkaStats().authenticationsFailed() == before + 1);
    }

    /** An SSL client trusting the test CA, showing {@code keystore}'s certificate unless null. */
    private static Map<String, Object> client(Path keystore) {
        Map<String, Object> config = new HashMap<>();
        config.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, cluster.kafkaBootstrap());
        config.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SSL");
        config.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, CERTS.truststore().toString());
        config.put(SslConfigs.SSL_TRUSTSTORE_PASSWORD_CONFIG, CERTS.password());
        config.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PKCS12");
        if (keystore != null) {
            config.put(SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG, keystore.toString());
            config.put(SslConfigs.SSL_KEYSTORE_PASSWORD_CONFIG, CERTS.password());
            config.put(SslConfigs.SSL_KEYSTORE_TYPE_CONFIG, "PKCS12");
        }
        return config;
    }
}
