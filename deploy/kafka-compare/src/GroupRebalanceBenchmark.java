import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Consumer-group rebalance times measured with Kafka's own consumer (kafka-clients), the same code
 * against any broker. One topic, {@value #TOPIC} (6 partitions, RF 3, min.insync.replicas=2); a
 * fresh group per trial; every member polls in its own thread (or, for the crash, its own JVM), and
 * its ConsumerRebalanceListener callbacks say which partitions it holds. "Balanced" = every
 * expected member holds exactly 6 / members partitions and together they hold all 6; the time a
 * scenario ends is when that became true, counted once it has held for {@value #SETTLE_MS} ms.
 *
 * <ul>
 *   <li>join: members A and B balanced; C subscribes. From C's subscribe() until A, B, C are balanced.
 *   <li>leave: then C calls close(). From that call until A and B are balanced again.
 *   <li>crash: A and B in this JVM, C in a child JVM (same classpath), balanced; C gets SIGKILL
 *       (destroyForcibly), then a record is produced (acks=all) to one of C's partitions. From the
 *       kill until A or B returns that record from poll().
 * </ul>
 *
 * <p>Usage: GroupRebalanceBenchmark BOOTSTRAP PROTOCOL SESSION_MS HEARTBEAT_MS TRIALS
 * <br>PROTOCOL is the consumer's group.protocol, classic or consumer. For classic, SESSION_MS and
 * HEARTBEAT_MS are the consumer's session.timeout.ms and heartbeat.interval.ms (0: the client's
 * default, 45000 and 3000); for consumer they are what the broker was configured with
 * (group.consumer.session.timeout.ms, group.consumer.heartbeat.interval.ms) and are only printed.
 * Prints one result row per scenario (see {@link #header()}); exit 1 if any trial failed.
 * <br>GroupRebalanceBenchmark --header prints the table's header.
 * <br>GroupRebalanceBenchmark --member BOOTSTRAP PROTOCOL SESSION_MS HEARTBEAT_MS GROUP is the child:
 * a member that prints "owned P,P,..." after every change of its partitions.
 */
public class GroupRebalanceBenchmark {
    static final String TOPIC = "group-bench";
    static final int PARTITIONS = 6;
    static final long SETTLE_MS = 1000;
    static final String ROW = "%-9s %-9s %-9s %-30s %7s %10s %8s %8s%n";

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && args[0].equals("--header")) {
            System.out.print(header());
            return;
        }
        if (args.length == 6 && args[0].equals("--member")) {
            runChildMember(args[1], args[2], Integer.parseInt(args[3]), Integer.parseInt(args[4]), args[5]);
            return;
        }
        if (args.length != 5) {
            System.err.println("usage: GroupRebalanceBenchmark BOOTSTRAP classic|consumer SESSION_MS HEARTBEAT_MS TRIALS");
            System.exit(2);
        }
        String protocol = args[1];
        if (!protocol.equals("classic") && !protocol.equals("consumer")) {
            System.err.println("PROTOCOL must be classic or consumer, not '" + protocol + "'");
            System.exit(2);
        }
        Settings s = new Settings(args[0], protocol, Integer.parseInt(args[2]), Integer.parseInt(args[3]));
        int trials = Integer.parseInt(args[4]);
        boolean failed = new GroupRebalanceBenchmark(s).run(trials);
        System.exit(failed ? 1 : 0);
    }

    static String header() {
        return String.format(ROW, "protocol", "session", "heartbeat", "scenario", "trials", "median ms", "min ms",
                "max ms");
    }

    /** The group settings of one run; sessionMs/heartbeatMs 0 = the classic client's defaults. */
    record Settings(String bootstrap, String protocol, int sessionMs, int heartbeatMs) {
        boolean classic() {
            return protocol.equals("classic");
        }

        long sessionOrDefaultMs() {
            return sessionMs > 0 ? sessionMs : 45_000;
        }

        Properties consumerProps(String group, String clientId) {
            Properties p = new Properties();
            p.put("bootstrap.servers", bootstrap);
            p.put("group.id", group);
            p.put("client.id", clientId);
            p.put("group.protocol", protocol);
            p.put("auto.offset.reset", "earliest");
            p.put("key.deserializer", StringDeserializer.class.getName());
            p.put("value.deserializer", StringDeserializer.class.getName());
            // The consumer protocol refuses these client settings: the broker decides them.
            if (classic() && sessionMs > 0) {
                p.put("session.timeout.ms", Integer.toString(sessionMs));
            }
            if (classic() && heartbeatMs > 0) {
                p.put("heartbeat.interval.ms", Integer.toString(heartbeatMs));
            }
            return p;
        }
    }

    private final Settings settings;
    private final String runId = UUID.randomUUID().toString().substring(0, 8);

    GroupRebalanceBenchmark(Settings settings) {
        this.settings = settings;
    }

    /** Runs every scenario TRIALS times and prints their rows; true if a trial failed. */
    boolean run(int trials) throws Exception {
        createTopic();
        List<Long> join = new ArrayList<>();
        List<Long> leave = new ArrayList<>();
        List<Long> crash = new ArrayList<>();
        int failures = 0;
        Properties pp = new Properties();
        pp.put("bootstrap.servers", settings.bootstrap());
        pp.put("acks", "all");
        pp.put("key.serializer", StringSerializer.class.getName());
        pp.put("value.serializer", StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp)) {
            producer.partitionsFor(TOPIC); // metadata now, not after the kill
            for (int t = 1; t <= trials; t++) {
                try {
                    long[] joinLeave = joinAndLeaveTrial(t);
                    join.add(joinLeave[0]);
                    leave.add(joinLeave[1]);
                    progress("trial %d join %d ms, leave %d ms", t, joinLeave[0], joinLeave[1]);
                } catch (Exception e) {
                    failures++;
                    progress("trial %d join/leave FAILED: %s", t, e);
                }
                try {
                    long ms = crashTrial(t, producer);
                    crash.add(ms);
                    progress("trial %d crash %d ms", t, ms);
                } catch (Exception e) {
                    failures++;
                    progress("trial %d crash FAILED: %s", t, e);
                }
            }
        }
        row("join (3rd member subscribes)", join, trials);
        row("leave (member close())", leave, trials);
        row("crash (SIGKILL -> record read)", crash, trials);
        return failures > 0;
    }

    private void createTopic() throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", settings.bootstrap());
        try (Admin admin = Admin.create(p)) {
            try {
                admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3)
                        .configs(Map.of("min.insync.replicas", "2")))).all().get();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
        }
    }

    /** One group: A and B balanced, C joins (first result), C leaves with close() (second result). */
    private long[] joinAndLeaveTrial(int trial) throws Exception {
        String group = "bench-" + settings.protocol() + "-join-" + runId + "-" + trial;
        GroupView view = new GroupView();
        List<Member> members = new ArrayList<>();
        try {
            view.expect(Set.of("A", "B"));
            members.add(Member.start("A", settings.consumerProps(group, "A"), view, null));
            members.add(Member.start("B", settings.consumerProps(group, "B"), view, null));
            view.awaitBalanced(60_000 + settings.sessionOrDefaultMs(), "A and B to form the group");

            view.expect(Set.of("A", "B", "C"));
            Member c = Member.start("C", settings.consumerProps(group, "C"), view, null);
            members.add(c);
            long subscribedAt = c.awaitSubscribed();
            long joined = view.awaitBalanced(60_000 + settings.sessionOrDefaultMs(), "C to join A and B");

            view.expect(Set.of("A", "B"));
            c.requestClose();
            long closeAt = c.awaitCloseStarted();
            long left = view.awaitBalanced(60_000 + settings.sessionOrDefaultMs(), "A and B to take C's partitions");
            return new long[] {toMs(joined - subscribedAt), toMs(left - closeAt)};
        } finally {
            for (Member m : members) {
                m.requestClose();
            }
            for (Member m : members) {
                m.awaitClosed();
            }
        }
    }

    /** A and B here, C in a child JVM; kill -9 C, produce to one of its partitions, time until A or B reads it. */
    private long crashTrial(int trial, KafkaProducer<String, String> producer) throws Exception {
        String group = "bench-" + settings.protocol() + "-crash-" + runId + "-" + trial;
        String marker = "crash-" + runId + "-" + trial;
        GroupView view = new GroupView();
        RecordWatch watch = new RecordWatch(marker);
        List<Member> members = new ArrayList<>();
        Process child = null;
        try {
            view.expect(Set.of("A", "B", "C"));
            members.add(Member.start("A", settings.consumerProps(group, "A"), view, watch));
            members.add(Member.start("B", settings.consumerProps(group, "B"), view, watch));
            child = startChild(group, view);
            view.awaitBalanced(60_000 + settings.sessionOrDefaultMs(), "A, B and the child C to form the group");
            int partition = view.owned("C").iterator().next();

            view.expect(Set.of("A", "B"));
            long killedAt = System.nanoTime();
            child.destroyForcibly();
            if (!child.waitFor(10, TimeUnit.SECONDS)) {
                throw new TimeoutException("the child JVM did not exit within 10 s of SIGKILL");
            }
            producer.send(new ProducerRecord<>(TOPIC, partition, null, marker)).get();
            long readAt = watch.await(60_000 + 2 * settings.sessionOrDefaultMs(),
                    "A or B to read the record produced to C's partition " + partition);
            return toMs(readAt - killedAt);
        } finally {
            if (child != null) {
                child.destroyForcibly();
            }
            for (Member m : members) {
                m.requestClose();
            }
            for (Member m : members) {
                m.awaitClosed();
            }
        }
    }

    /** Member C in a child JVM; its "owned" lines update the view. */
    private Process startChild(String group, GroupView view) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        cmd.add("-Xmx256m");
        for (String prop : new String[] {"log4j2.configurationFile", "kafka.logs.dir"}) {
            if (System.getProperty(prop) != null) {
                cmd.add("-D" + prop + "=" + System.getProperty(prop));
            }
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), GroupRebalanceBenchmark.class.getName(),
                "--member", settings.bootstrap(), settings.protocol(), Integer.toString(settings.sessionMs()),
                Integer.toString(settings.heartbeatMs()), group));
        Process child = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.startsWith("owned ")) {
                        view.update("C", parsePartitions(line.substring("owned ".length())));
                    }
                }
            } catch (Exception e) {
                // the child died: its stdout closed
            }
        }, "child-C-reader");
        reader.setDaemon(true);
        reader.start();
        return child;
    }

    static Set<Integer> parsePartitions(String csv) {
        Set<Integer> s = new TreeSet<>();
        for (String p : csv.split(",")) {
            if (!p.isBlank()) {
                s.add(Integer.parseInt(p.trim()));
            }
        }
        return s;
    }

    /** The child JVM's member: polls until killed, printing its partitions after every change. */
    static void runChildMember(String bootstrap, String protocol, int sessionMs, int heartbeatMs, String group) {
        Settings s = new Settings(bootstrap, protocol, sessionMs, heartbeatMs);
        PrintStream out = System.out;
        // The parent holds this JVM's stdin open: if the parent dies, stop rather than poll forever.
        Thread parentWatch = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // nothing is sent
                }
            } catch (Exception e) {
                // closed
            }
            Runtime.getRuntime().halt(0);
        }, "parent-watch");
        parentWatch.setDaemon(true);
        parentWatch.start();
        Set<Integer> owned = new TreeSet<>(); // the poll thread's (callbacks run inside poll())
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(s.consumerProps(group, "C"))) {
            consumer.subscribe(List.of(TOPIC), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    partitions.forEach(tp -> owned.remove(tp.partition()));
                    report();
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    partitions.forEach(tp -> owned.add(tp.partition()));
                    report();
                }

                @Override
                public void onPartitionsLost(Collection<TopicPartition> partitions) {
                    onPartitionsRevoked(partitions);
                }

                private void report() {
                    out.println("owned " + owned.stream().map(String::valueOf).collect(Collectors.joining(",")));
                    out.flush();
                }
            });
            while (true) {
                consumer.poll(Duration.ofMillis(100));
            }
        }
    }

    private void row(String scenario, List<Long> ms, int trials) {
        String session = settings.sessionMs() > 0 ? Integer.toString(settings.sessionMs()) : "45000";
        String heartbeat = settings.heartbeatMs() > 0 ? Integer.toString(settings.heartbeatMs()) : "3000";
        String ok = ms.size() + "/" + trials;
        if (ms.isEmpty()) {
            System.out.printf(ROW, settings.protocol(), session, heartbeat, scenario, ok, "-", "-", "-");
            return;
        }
        List<Long> sorted = new ArrayList<>(ms);
        sorted.sort(null);
        int n = sorted.size();
        long median = n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
        System.out.printf(ROW, settings.protocol(), session, heartbeat, scenario, ok, median, sorted.get(0),
                sorted.get(n - 1));
    }

    private static void progress(String format, Object... args) {
        System.err.printf("[%tT] " + format + "%n", prepend(System.currentTimeMillis(), args));
    }

    private static Object[] prepend(Object first, Object[] rest) {
        Object[] all = new Object[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }

    static long toMs(long nanos) {
        return Math.round(nanos / 1e6);
    }

    /**
     * Which partitions each member holds, as its rebalance listener last said, and since when the
     * expected members have been balanced. Guarded by this object's monitor (members' poll
     * threads, the child's reader thread and the main thread all call in).
     */
    static final class GroupView {
        private final Map<String, Set<Integer>> owned = new HashMap<>();
        private Set<String> expected = Set.of();
        private long balancedSinceNanos; // 0: not balanced now

        synchronized void expect(Set<String> members) {
            expected = Set.copyOf(members);
            balancedSinceNanos = 0;
            reevaluate(System.nanoTime());
        }

        synchronized void update(String member, Set<Integer> partitions) {
            owned.put(member, Set.copyOf(partitions));
            reevaluate(System.nanoTime());
            notifyAll();
        }

        synchronized Set<Integer> owned(String member) {
            return owned.getOrDefault(member, Set.of());
        }

        private void reevaluate(long nowNanos) {
            boolean balanced = balanced();
            if (balanced && balancedSinceNanos == 0) {
                balancedSinceNanos = nowNanos;
            } else if (!balanced) {
                balancedSinceNanos = 0;
            }
        }

        private boolean balanced() {
            if (expected.isEmpty()) {
                return false;
            }
            int share = PARTITIONS / expected.size();
            Set<Integer> union = new HashSet<>();
            for (String m : expected) {
                Set<Integer> p = owned.getOrDefault(m, Set.of());
                if (p.size() != share) {
                    return false;
                }
                union.addAll(p);
            }
            return union.size() == PARTITIONS;
        }

        /** Waits until the expected members have been balanced for SETTLE_MS; returns when that began (nanoTime). */
        synchronized long awaitBalanced(long timeoutMs, String what) throws InterruptedException, TimeoutException {
            long deadline = System.nanoTime() + timeoutMs * 1_000_000;
            while (true) {
                long now = System.nanoTime();
                if (balancedSinceNanos != 0 && now - balancedSinceNanos >= SETTLE_MS * 1_000_000) {
                    return balancedSinceNanos;
                }
                if (now > deadline) {
                    throw new TimeoutException("waited " + timeoutMs + " ms for " + what + "; members hold "
                            + new TreeMapView(owned) + ", expected " + new TreeSet<>(expected));
                }
                long waitMs = balancedSinceNanos != 0
                        ? SETTLE_MS - (now - balancedSinceNanos) / 1_000_000 : (deadline - now) / 1_000_000;
                wait(Math.max(1, Math.min(waitMs, 200)));
            }
        }
    }

    /** Members' partitions in member order, for error messages. */
    record TreeMapView(Map<String, Set<Integer>> owned) {
        @Override
        public String toString() {
            return new java.util.TreeMap<>(owned).entrySet().stream()
                    .map(e -> e.getKey() + "=" + new TreeSet<>(e.getValue())).collect(Collectors.joining(" "));
        }
    }

    /** When a member's poll() first returned the record with the marker value. */
    static final class RecordWatch {
        private final String marker;
        private final AtomicLong seenAtNanos = new AtomicLong();
        private final CountDownLatch seen = new CountDownLatch(1);

        RecordWatch(String marker) {
            this.marker = marker;
        }

        void check(ConsumerRecord<String, String> record, long nowNanos) {
            if (marker.equals(record.value()) && seenAtNanos.compareAndSet(0, nowNanos)) {
                seen.countDown();
            }
        }

        long await(long timeoutMs, String what) throws InterruptedException, TimeoutException {
            if (!seen.await(timeoutMs, TimeUnit.MILLISECONDS)) {
                throw new TimeoutException("waited " + timeoutMs + " ms for " + what);
            }
            return seenAtNanos.get();
        }
    }

    /**
     * A group member polling in its own thread, which owns the consumer (created, subscribed, polled
     * and closed there). Other threads only ask it to close and read the times it publishes.
     */
    static final class Member {
        private final String name;
        private final Properties props;
        private final GroupView view;
        private final RecordWatch watch; // may be null
        private final Thread thread;
        private final Set<Integer> owned = new TreeSet<>(); // the poll thread's
        private final CountDownLatch subscribed = new CountDownLatch(1);
        private final CountDownLatch closeStarted = new CountDownLatch(1);
        private volatile boolean closeRequested;
        private volatile long subscribedAtNanos;
        private volatile long closeStartedAtNanos;
        private volatile Throwable failure;

        private Member(String name, Properties props, GroupView view, RecordWatch watch) {
            this.name = name;
            this.props = props;
            this.view = view;
            this.watch = watch;
            this.thread = new Thread(this::pollLoop, "member-" + name);
        }

        static Member start(String name, Properties props, GroupView view, RecordWatch watch) {
            Member m = new Member(name, props, view, watch);
            m.thread.start();
            return m;
        }

        private void pollLoop() {
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
                subscribedAtNanos = System.nanoTime();
                consumer.subscribe(List.of(TOPIC), new ConsumerRebalanceListener() {
                    @Override
                    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                        partitions.forEach(tp -> owned.remove(tp.partition()));
                        view.update(name, owned);
                    }

                    @Override
                    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                        partitions.forEach(tp -> owned.add(tp.partition()));
                        view.update(name, owned);
                    }

                    @Override
                    public void onPartitionsLost(Collection<TopicPartition> partitions) {
                        onPartitionsRevoked(partitions);
                    }
                });
                subscribed.countDown();
                while (!closeRequested) {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                        if (watch != null) {
                            watch.check(r, System.nanoTime());
                        }
                    }
                }
                closeStartedAtNanos = System.nanoTime();
                closeStarted.countDown();
                // try-with-resources: consumer.close() leaves the group
            } catch (Throwable t) {
                failure = t;
                System.err.println("member " + name + " failed: " + t);
            } finally {
                subscribed.countDown();
                closeStarted.countDown();
            }
        }

        long awaitSubscribed() throws Exception {
            subscribed.await();
            check();
            return subscribedAtNanos;
        }

        void requestClose() {
            closeRequested = true;
        }

        long awaitCloseStarted() throws Exception {
            closeStarted.await();
            check();
            return closeStartedAtNanos;
        }

        void awaitClosed() throws InterruptedException {
            thread.join(60_000);
        }

        private void check() throws Exception {
            if (failure != null) {
                throw new Exception("member " + name + " failed", failure);
            }
        }
    }
}
