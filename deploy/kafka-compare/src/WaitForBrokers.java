import java.util.Collection;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.Node;

/**
 * Polls DescribeCluster (which lists registered, unfenced brokers) until at least WANT brokers
 * are there. Usage: WaitForBrokers BOOTSTRAP WANT TIMEOUT_SECONDS [admin.prop=value ...] (e.g. the
 * TLS settings). Exit 0 when ready, 1 on timeout.
 */
public class WaitForBrokers {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        int want = Integer.parseInt(args[1]);
        long deadline = System.nanoTime() + Long.parseLong(args[2]) * 1_000_000_000L;
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("request.timeout.ms", "2000");
        p.put("default.api.timeout.ms", "3000");
        p.put("retry.backoff.ms", "100");
        p.put("retry.backoff.max.ms", "200");
        p.put("reconnect.backoff.ms", "50");
        p.put("reconnect.backoff.max.ms", "200");
        for (int i = 3; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            p.put(kv[0], kv[1]);
        }
        String last = "none";
        try (Admin admin = Admin.create(p)) {
            while (true) {
                try {
                    Collection<Node> nodes = admin.describeCluster().nodes().get();
                    last = nodes.stream().map(Node::idString).sorted().collect(Collectors.joining(","));
                    if (nodes.size() >= want) {
                        System.out.println("registered brokers: " + last);
                        System.exit(0);
                    }
                } catch (Exception e) {
                    // not up yet
                }
                if (System.nanoTime() > deadline) {
                    System.err.println("timed out waiting for " + want + " brokers; last seen: " + last);
                    System.exit(1);
                }
                Thread.sleep(200);
            }
        }
    }
}
