package io.raftmq.node.ui;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Properties;

/**
 * The page and its files, read once from the node's jar: {@code /} the page, {@code /ui/app.js}
 * and {@code /ui/style.css} its script and style (this package's resources), {@code
 * /ui/lib/uPlot.iife.min.js} and {@code /ui/lib/uPlot.min.css} the charting library (the uPlot
 * WebJar). Nothing else is served, so no path can reach another resource of the jar.
 *
 * <p>Immutable after construction; any thread.
 */
final class StaticFiles {
    /** One file: its bytes, content type and Cache-Control. */
    record File(byte[] bytes, String contentType, String cacheControl) {}

    /** The WebJar's Maven coordinates, which name its version (its files sit under the version). */
    private static final String UPLOT_POM = "/META-INF/maven/org.webjars.npm/uplot/pom.properties";
    /** The page's own files change with the node's version: revalidate. The library is versioned by the jar. */
    private static final String OWN = "no-cache";
    private static final String LIBRARY = "public, max-age=86400";

    private final Map<String, File> files;

    StaticFiles() {
        String uplot = "/META-INF/resources/webjars/uplot/" + webJarVersion() + "/dist/";
        this.files = Map.of(
                "/", load("index.html", "text/html; charset=utf-8", OWN),
                "/ui/app.js", load("app.js", "text/javascript; charset=utf-8", OWN),
                "/ui/style.css", load("style.css", "text/css; charset=utf-8", OWN),
                "/ui/lib/uPlot.iife.min.js", load(uplot + "uPlot.iife.min.js", "text/javascript; charset=utf-8",
                        LIBRARY),
                "/ui/lib/uPlot.min.css", load(uplot + "uPlot.min.css", "text/css; charset=utf-8", LIBRARY));
    }

    /** The file at {@code path}, or null. */
    File get(String path) {
        return files.get(path);
    }

    private static String webJarVersion() {
        try (InputStream in = StaticFiles.class.getResourceAsStream(UPLOT_POM)) {
            if (in == null) {
                throw new IllegalStateException("the uPlot WebJar (" + UPLOT_POM + ") is missing from the jar");
            }
            Properties pom = new Properties();
            pom.load(in);
            return pom.getProperty("version");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + UPLOT_POM, e);
        }
    }

    private static File load(String resource, String contentType, String cacheControl) {
        try (InputStream in = StaticFiles.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("the web view's resource " + resource + " is missing from the jar");
            }
            return new File(in.readAllBytes(), contentType, cacheControl);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the web view's resource " + resource, e);
        }
    }
}
