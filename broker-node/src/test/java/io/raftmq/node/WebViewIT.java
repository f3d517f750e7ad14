package io.raftmq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The web view in a real browser: headless Chromium (Debian's {@code chromium} and {@code
 * chromium-driver}, driven by Selenium) on a page of three real node processes. The page shows the
 * voters, brokers and a topic's partitions; {@code kill -9} of the partition's leader, the node the
 * page was loaded from, and without a reload the page connects to another node and says so, shows
 * the broker fenced, the new leader and the events in its timeline; the node restarted, it shows it
 * back in the ISR. A group's committed offset shows with its lag. The page's resources all come from the node (the browser cannot resolve any
 * other host). Saves a screenshot to {@code target/web-view.png}.
 */
@Timeout(300)
class WebViewIT {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final String INSTALL = "apt-get update && apt-get install -y chromium chromium-driver";

    @TempDir
    Path dir;

    @Test
    void thePageFollowsALeaderKilledAndRestartedWithoutAReload() throws Exception {
        ensureChromium();
        try (NodeProcessCluster cluster = new NodeProcessCluster(3, dir);
                TestBrokerClient client = new TestBrokerClient(cluster.addresses(), 5_000)) {
            WebDriver browser = null;
            try {
                cluster.startAll();
                try (var controllers = cluster.client()) {
                    cluster.awaitHealthy(controllers, Duration.ofSeconds(60));
                }
                client.createTopic("demo", 1, 3, Map.of("min.insync.replicas", "2"));
                int leader = client.partition("demo", 0).getLeader();
                NodeProcessCluster.Node victim = cluster.node(leader);
                try (ContinuousProducer producer = new ContinuousProducer(client, "demo", 0, 5_000)) {
                    producer.start();
                    browser = chromium();
                    JavascriptExecutor js = (JavascriptExecutor) browser;
                    String origin = "http://" + victim.httpAddress();
                    browser.get(origin + "/");

                    await().atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() -> {
                        assertEquals(3, rows(js, "voters"));
                        assertEquals(3, rows(js, "brokers"));
                        for (int id = 1; id <= 3; id++) {
                            assertEquals("running", text(js, "#brokers tr[data-broker='" + id + "'] .state"));
                        }
                        assertEquals(Integer.toString(leader), text(js, "#partitions tr[data-partition='demo-0'] .leader-id"));
                        assertTrue(text(js, "#connection").startsWith("connected to node " + leader),
                                text(js, "#connection"));
                    });
                    assertOwnResources(js, origin);
                    // A group's committed offset, shown with its lag behind the leader's high watermark.
                    await().atMost(Duration.ofSeconds(30)).until(() -> producer.ackCount() >= 200);
                    try (TestGroupClient groups = new TestGroupClient(cluster.addresses())) {
                        groups.commit("demo-readers", "", -1, "demo", Map.of(0, 100L));
                    }
                    await().atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() -> {
                        String lag = text(js, "#groups tr[data-group='demo-readers'] .lag");
                        assertTrue(Long.parseLong(lag) >= 100, lag);
                    });

                    victim.kill9();
                    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() -> {
                        String connection = text(js, "#connection");
                        assertTrue(connection.matches("connected to node [123]; node " + leader + " unreachable.*"),
                                connection);
                        assertEquals("fenced", text(js, "#brokers tr[data-broker='" + leader + "'] .state"));
                        String newLeader = text(js, "#partitions tr[data-partition='demo-0'] .leader-id");
                        assertNotEquals(Integer.toString(leader), newLeader);
                        assertNotEquals("none", newLeader);
                        String timeline = text(js, "#timeline");
                        assertTrue(timeline.contains("node " + leader + " fenced"), timeline);
                        assertTrue(timeline.contains("demo-0 led by node " + newLeader + " at epoch"), timeline);
                    });

                    victim.start();
                    await().atMost(Duration.ofSeconds(90)).ignoreExceptions().untilAsserted(() -> {
                        assertEquals("running", text(js, "#brokers tr[data-broker='" + leader + "'] .state"));
                        String isr = text(js, "#partitions tr[data-partition='demo-0'] .isr");
                        assertTrue(List.of(isr.split(", ")).contains(Integer.toString(leader)), isr);
                        String timeline = text(js, "#timeline");
                        assertTrue(timeline.contains("node " + leader + " unfenced"), timeline);
                        assertTrue(timeline.contains("demo-0 ISR expanded"), timeline);
                    });
                    // The rates charts: one per rate, drawn by uPlot.
                    assertEquals(5, browser.findElements(By.cssSelector("#charts .uplot")).size());
                    Files.createDirectories(Path.of("target"));
                    Files.write(Path.of("target", "web-view.png"),
                            ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
                    producer.stop();
                }
            } catch (Throwable t) {
                cluster.dumpLogs();
                if (browser != null) {
                    System.out.println("page text at the failure:\n" + browser.findElement(By.tagName("body"))
                            .getText());
                }
                throw t;
            } finally {
                if (browser != null) {
                    browser.quit();
                }
            }
        }
    }

    /** Every script and style sheet the page names, and every resource it fetched, is the node's own. */
    private static void assertOwnResources(JavascriptExecutor js, String origin) {
        @SuppressWarnings("unchecked")
        List<String> named = (List<String>) js.executeScript("return [...document.scripts].map(s => s.src)"
                + ".concat([...document.querySelectorAll('link')].map(l => l.href))");
        assertEquals(4, named.size(), named.toString());
        for (String url : named) {
            assertTrue(url.startsWith(origin + "/"), url + " is not from " + origin);
        }
        @SuppressWarnings("unchecked")
        List<String> fetched = (List<String>) js.executeScript(
                "return performance.getEntriesByType('resource').map(e => e.name)");
        for (String url : fetched) {
            assertTrue(url.startsWith("http://127.0.0.1:"), url + " is not on this machine's loopback");
        }
        Object uplot = js.executeScript("return typeof window.uPlot");
        assertEquals("function", uplot, "uPlot loaded from the node");
    }

    private static long rows(JavascriptExecutor js, String table) {
        return (Long) js.executeScript("return document.querySelectorAll('#" + table + " tbody tr').length");
    }

    private static String text(JavascriptExecutor js, String selector) {
        Object text = js.executeScript("const e = document.querySelector(arguments[0]);"
                + " return e ? e.textContent : null", selector);
        if (text == null) {
            throw new AssertionError("nothing on the page matches " + selector);
        }
        return (String) text;
    }

    /**
     * Headless chromium through Debian's chromedriver (never one Selenium Manager would download).
     * Host names other than 127.0.0.1 do not resolve: the page may use nothing but its node.
     */
    private static WebDriver chromium() {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1500,1300", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--no-first-run", "--disable-extensions", "--disable-background-networking");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .build();
        return new ChromeDriver(service, options);
    }

    /** Installs chromium and its driver when missing and this is root, as the compose test does Docker. */
    private static void ensureChromium() throws IOException, InterruptedException {
        if (Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER)) {
            return;
        }
        if (!"root".equals(System.getProperty("user.name"))) {
            throw new IllegalStateException("the browser test needs Debian's chromium and chromium-driver"
                    + " (" + CHROMIUM + ", " + CHROMEDRIVER + "); install them: sudo sh -c '" + INSTALL + "'");
        }
        ProcessBuilder builder = new ProcessBuilder("sh", "-c", INSTALL).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(new File(System.getProperty("java.io.tmpdir"), "raftmq-chromium-install.log"));
        builder.environment().put("DEBIAN_FRONTEND", "noninteractive"); // never a debconf prompt
        Process install = builder.start();
        boolean done = install.waitFor(10, TimeUnit.MINUTES);
        if (!done) {
            install.destroyForcibly();
        }
        if (!done || install.exitValue() != 0
                || !Files.isExecutable(CHROMEDRIVER)) {
            throw new IllegalStateException("installing chromium failed (" + INSTALL + "); see "
                    + System.getProperty("java.io.tmpdir") + "/raftmq-chromium-install.log");
        }
    }
}
