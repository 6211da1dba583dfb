package io.github.sparkdropout.spark;

import org.apache.spark.SecurityManager;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.rpc.RpcAddress;
import org.apache.spark.rpc.RpcEndpointRef;
import org.apache.spark.rpc.RpcEnv;
import org.apache.spark.rpc.RpcEnv$;
import org.apache.spark.rpc.RpcTimeout;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import scala.Option;
import scala.concurrent.duration.FiniteDuration;
import scala.reflect.ClassTag$;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The averaging endpoint lives in the driver's own Spark RPC, so it is exactly as protected as Spark itself: with
 * {@code spark.authenticate} and {@code spark.network.crypto.enabled}, a client holding the application's secret
 * gets answers, one with a wrong secret (or none) gets nothing, and the handler never sees its messages. The
 * driver runs here; each client is another JVM (a client in this one would find the driver's secret in the
 * process's Hadoop credentials, where Spark keeps it).
 */
@Tag("cluster")
class EndpointSecurityIT {
    private static SparkContext driver;
    private static SparkInternals.DriverEndpoint endpoint;
    private static final AtomicInteger handled = new AtomicInteger();

    private static SparkConf secured(String secret) {
        SparkConf conf = new SparkConf().set("spark.network.crypto.enabled", "true")
                .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1");
        return secret.isEmpty() ? conf.set("spark.authenticate", "false")
                : conf.set("spark.authenticate", "true").set("spark.authenticate.secret", secret);
    }

    @BeforeAll
    static void startASecuredDriverWithAnEndpoint() {
        driver = new SparkContext(secured("set-below").setMaster("local[1]").setAppName("endpoint-security")
                .set("spark.ui.enabled", "false"));
        endpoint = SparkInternals.registerOnDriver("sparkdropout-probe", (request, reply) -> {
            handled.incrementAndGet();
            reply.send("pong to " + request);
        });
    }

    @AfterAll
    static void stop() {
        if (endpoint != null) {
            endpoint.close();
        }
        if (driver != null) {
            driver.stop();
        }
    }

    /** A client in its own JVM, as an executor would be: connects to the endpoint with {@code secret}, asks once. */
    public static void main(String[] args) throws Exception {
        SparkConf conf = secured(args[3]);
        SecurityManager security = new SecurityManager(conf, Option.empty(),
                org.apache.spark.internal.config.package$.MODULE$.AUTH_SECRET_FILE());
        RpcEnv client = RpcEnv$.MODULE$.create("probe-client", "127.0.0.1", 0, conf, security, true);
        try {
            RpcEndpointRef ref = client.setupEndpointRef(new RpcAddress(args[0], Integer.parseInt(args[1])), args[2]);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
                out.writeObject("hello");
            }
            byte[] reply = ref.askSync(bytes.toByteArray(), new RpcTimeout(new FiniteDuration(20, TimeUnit.SECONDS),
                    "probe"), ClassTag$.MODULE$.apply(byte[].class));
            try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(reply))) {
                System.out.println("REPLY " + in.readObject());
            }
        } finally {
            client.shutdown();
        }
        System.exit(0);
    }

    private static String askFromAnotherJvm(String secret) throws Exception {
        RpcAddress address = driver.env().rpcEnv().address();
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        String opens = Files.readString(Path.of("conf/java17-opens.properties")).lines()
                .filter(l -> l.startsWith("jvm.opens=")).findFirst().orElseThrow().substring("jvm.opens=".length());
        cmd.addAll(List.of(opens.split(" ")));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), EndpointSecurityIT.class.getName(),
                address.host(), "" + address.port(), endpoint.name(), secret));
        Path out = Files.createTempFile("probe", ".txt");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        try {
            assertTrue(p.waitFor(2, TimeUnit.MINUTES), "the client finished");
        } finally {
            p.destroyForcibly();
        }
        String printed = Files.readString(out);
        return p.exitValue() == 0 ? printed.lines().filter(l -> l.startsWith("REPLY ")).findFirst().orElse(printed)
                : "FAILED " + p.exitValue();
    }

    @Test
    void onlyAClientWithTheSecretReachesTheEndpoint() throws Exception {
        // in local mode Spark generates the application's secret itself
        String secret = driver.env().securityManager().getSecretKey();
        assertTrue(driver.env().securityManager().isAuthenticationEnabled()
                && driver.env().securityManager().isEncryptionEnabled());
        assertEquals("REPLY pong to hello", askFromAnotherJvm(secret), "the application's secret gets answers");
        int before = handled.get();
        assertNotEquals("REPLY pong to hello", askFromAnotherJvm("a-wrong-secret"), "a wrong secret gets nothing");
        assertNotEquals("REPLY pong to hello", askFromAnotherJvm(""), "no authentication gets nothing");
        assertEquals(before, handled.get(), "the endpoint never saw their messages");
    }
}
