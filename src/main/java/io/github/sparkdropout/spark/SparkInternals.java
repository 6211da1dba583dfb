package io.github.sparkdropout.spark;

import org.apache.spark.SparkContext;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkException;
import org.apache.spark.rpc.RpcCallContext;
import org.apache.spark.rpc.RpcEndpointRef;
import org.apache.spark.rpc.RpcEnv;
import org.apache.spark.rpc.RpcTimeout;
import org.apache.spark.rpc.ThreadSafeRpcEndpoint;
import org.apache.spark.scheduler.TaskSchedulerImpl;
import org.apache.spark.util.RpcUtils;
import scala.PartialFunction;
import scala.concurrent.Await;
import scala.concurrent.Future;
import scala.concurrent.duration.FiniteDuration;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractPartialFunction;
import scala.runtime.BoxedUnit;
import scala.util.Try;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The one door to Spark's internal APIs ({@code private[spark]} in Scala, public in bytecode, stable since Spark
 * 2.0; the build pins 3.5.9). On a Spark upgrade this is the file to check; an architecture test fails if any
 * other class uses them.
 *
 * <ul>
 *   <li>an RPC endpoint in the driver's own {@code RpcEnv} (beside Spark's {@code BarrierCoordinator}: same port,
 *       authentication and encryption, nothing new to open), its handler plain Java, and the executors' client
 *       for it. Messages travel as bytes: Spark's RPC deserialises with the class loader it was created with,
 *       which on an executor (and on a cluster-mode driver) cannot see the application jar's classes, so the
 *       typed messages are (de)serialised here, with this jar's class loader. Tasks in the driver's own JVM
 *       (local mode) call the handler directly, by reference;</li>
 *   <li>the scheduler's counts: task slots of the registered executors, and how often a task is tried;</li>
 *   <li>Spark SQL's own Parquet writer, driven in this JVM: small tables written without a Spark job;</li>
 *   <li>a frame's rows as Catalyst's internal rows, and ML vectors read from them in place: loading a frame into
 *       shards then makes no {@code Row} and no {@code double[]} for each row.</li>
 * </ul>
 */
public final class SparkInternals {
    private static final FiniteDuration NO_TIMEOUT = new FiniteDuration(365, TimeUnit.DAYS);
    private static final FiniteDuration POLL = new FiniteDuration(100, TimeUnit.MILLISECONDS);

    private SparkInternals() {
    }

    /** Answers one request to a driver endpoint, now or later, through {@code reply}. Called one at a time. */
    public interface RequestHandler {
        void handle(Object request, Reply reply);
    }

    /** The way back to one caller. */
    public interface Reply {
        void send(Object response);

        void fail(String why);
    }

    /** The driver's endpoints, by name, for the tasks that run in the driver's own JVM (local mode). */
    private static final java.util.Map<String, Endpoint> IN_THIS_JVM = new java.util.concurrent.ConcurrentHashMap<>();

    /** An endpoint registered in the driver's RpcEnv; closing it unregisters it. */
    public static final class DriverEndpoint implements AutoCloseable {
        private final RpcEnv env;
        private final RpcEndpointRef ref;

        private DriverEndpoint(RpcEnv env, RpcEndpointRef ref) {
            this.env = env;
            this.ref = ref;
        }

        public String name() {
            return ref.name();
        }

        /** Unregisters the endpoint (nothing to do once Spark has stopped its RpcEnv). */
        @Override
        public void close() {
            IN_THIS_JVM.remove(ref.name());
            env.stop(ref);
        }
    }

    /** Registers {@code handler} as the endpoint {@code name} of this (driver) JVM's RpcEnv. */
    public static DriverEndpoint registerOnDriver(String name, RequestHandler handler) {
        RpcEnv env = SparkEnv.get().rpcEnv();
        Endpoint endpoint = new Endpoint(env, handler);
        DriverEndpoint registered = new DriverEndpoint(env, env.setupEndpoint(name, endpoint));
        IN_THIS_JVM.put(name, endpoint);
        return registered;
    }

    /** Adapts a plain-Java handler to Spark's endpoint interface. */
    private static final class Endpoint implements ThreadSafeRpcEndpoint {
        private final RpcEnv env;
        private final RequestHandler handler;
        // the last reply serialised: a round's one mean goes to every worker, serialised once (one message at a time)
        private Object lastReply;
        private byte[] lastReplyBytes;

        Endpoint(RpcEnv env, RequestHandler handler) {
            this.env = env;
            this.handler = handler;
        }

        @Override
        public RpcEnv rpcEnv() {
            return env;
        }

        @Override
        public PartialFunction<Object, BoxedUnit> receiveAndReply(RpcCallContext context) {
            // a partial function defined everywhere, written against the class both Scala 2.12 and 2.13 have (2.13
            // renamed the factory PartialFunction.apply to fromFunction)
            return new AbstractPartialFunction<Object, BoxedUnit>() {
                @Override
                public boolean isDefinedAt(Object request) {
                    return true;
                }

                @Override
                public BoxedUnit apply(Object request) {
                    Reply reply = new Reply() {
                        @Override
                        public void send(Object response) {
                            context.reply(serialisedReply(response));
                        }

                        @Override
                        public void fail(String why) {
                            context.sendFailure(new SparkException(why));
                        }
                    };
                    Object message = fromBytes((byte[]) request);
                    synchronized (Endpoint.this) {
                        handler.handle(message, reply);
                    }
                    return BoxedUnit.UNIT;
                }
            };
        }

        /**
         * A request from a task in this JVM, handled in the task's own thread (under the lock that keeps the
         * handler one request at a time) and by reference: no serialisation, and no hop through Spark's RPC
         * dispatcher thread. Each hop is a thread waking another, twice a round. The caller waits for its reply as
         * {@link EndpointClient#ask}.
         */
        Object askInThisJvm(String name, Object request, Runnable whileWaiting) {
            java.util.concurrent.CompletableFuture<Object> answer = new java.util.concurrent.CompletableFuture<>();
            Reply reply = new Reply() {
                @Override
                public void send(Object response) {
                    answer.complete(response);
                }

                @Override
                public void fail(String why) {
                    answer.completeExceptionally(new SparkException(why));
                }
            };
            synchronized (this) {
                handler.handle(request, reply);
            }
            boolean interrupted = false;
            while (!answer.isDone()) {
                try {
                    answer.get(POLL.toMillis(), TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
                    // still waiting, or done (failed): the loop's condition tells
                }
                whileWaiting.run();
            }
            if (interrupted) {
                Thread.currentThread().interrupt(); // for whoever looks next
            }
            try {
                return answer.join();
            } catch (java.util.concurrent.CompletionException e) {
                throw new IllegalStateException("the driver's " + name + " failed", e.getCause());
            }
        }

        private byte[] serialisedReply(Object response) {
            if (response != lastReply) {
                lastReplyBytes = toBytes(response);
                lastReply = response;
            }
            return lastReplyBytes;
        }
    }

    /** An executor's connection to a driver endpoint, for the duration of a task. */
    public static final class EndpointClient {
        private final RpcEndpointRef ref; // null: the endpoint is in this JVM
        private final Endpoint inThisJvm;
        private final String name;

        private EndpointClient(RpcEndpointRef ref, Endpoint inThisJvm, String name) {
            this.ref = ref;
            this.inThisJvm = inThisJvm;
            this.name = name;
        }

        /**
         * Sends {@code request} and waits for the reply, as long as it takes; every 100 ms {@code whileWaiting}
         * runs (to notice a killed task). A failure on the driver is an {@link IllegalStateException}. In the
         * driver's own JVM the request and its reply travel by reference: do not change them after sending.
         */
        public <T> T ask(Serializable request, Class<T> replyType, Runnable whileWaiting) {
            if (inThisJvm != null) {
                return replyType.cast(inThisJvm.askInThisJvm(name, request, whileWaiting));
            }
            Future<Object> reply = ref.ask(toBytes(request),
                    new RpcTimeout(NO_TIMEOUT, "sparkdropout.endpoint"), ClassTag$.MODULE$.apply(Object.class));
            boolean interrupted = false;
            while (!reply.isCompleted()) {
                try {
                    Await.ready(reply, POLL);
                } catch (Exception e) { // Scala declares nothing: a timeout (still waiting) or an interrupt
                    if (e instanceof InterruptedException) {
                        interrupted = true;
                    } else if (!(e instanceof TimeoutException)) {
                        throw new IllegalStateException(e);
                    }
                }
                whileWaiting.run();
            }
            if (interrupted) {
                Thread.currentThread().interrupt(); // for whoever looks next
            }
            Try<Object> result = reply.value().get();
            if (result.isFailure()) {
                throw new IllegalStateException("the driver's " + ref.name() + " failed", result.failed().get());
            }
            return replyType.cast(fromBytes((byte[]) result.get()));
        }
    }

    /**
     * A message as a remote endpoint or client receives it (serialised and read back): for tests, and for the
     * executors' warm-up, which runs the endpoint messages' code once before the first round needs it.
     */
    public static Object overTheWire(Serializable message) {
        return fromBytes(toBytes(message));
    }

    // time spent (de)serialising endpoint messages, by this JVM and by each thread: the serialising part of a
    // round's transport (rounds log); a task's own is its thread's, whatever else its executor runs
    private static final java.util.concurrent.atomic.AtomicLong SERIALISING_NANOS =
            new java.util.concurrent.atomic.AtomicLong();
    private static final ThreadLocal<long[]> THREAD_SERIALISING_NANOS = ThreadLocal.withInitial(() -> new long[1]);

    /** Nanoseconds this JVM has spent serialising and deserialising endpoint messages, all endpoints together. */
    public static long serialisingNanos() {
        return SERIALISING_NANOS.get();
    }

    /** Nanoseconds this thread has spent serialising and deserialising endpoint messages. */
    public static long threadSerialisingNanos() {
        return THREAD_SERIALISING_NANOS.get()[0];
    }

    private static void serialised(long startNanos) {
        long nanos = System.nanoTime() - startNanos;
        SERIALISING_NANOS.addAndGet(nanos);
        THREAD_SERIALISING_NANOS.get()[0] += nanos;
    }

    private static byte[] toBytes(Object message) {
        long start = System.nanoTime();
        try {
            return serialise(message);
        } finally {
            serialised(start);
        }
    }

    private static byte[] serialise(Object message) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new PackingOutputStream(bytes)) {
            out.writeObject(message);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialise " + message.getClass().getName(), e);
        }
        return bytes.toByteArray();
    }

    private static Object fromBytes(byte[] bytes) {
        long start = System.nanoTime();
        try {
            return deserialise(bytes);
        } finally {
            serialised(start);
        }
    }

    /** Deserialises with this jar's class loader, which sees the message classes wherever Spark loaded the job. */
    private static Object deserialise(byte[] bytes) {
        ClassLoader loader = SparkInternals.class.getClassLoader();
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes)) {
            {
                enableResolveObject(true);
            }

            @Override
            protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
                try {
                    return Class.forName(desc.getName(), false, loader);
                } catch (ClassNotFoundException e) {
                    return super.resolveClass(desc);
                }
            }

            @Override
            protected Object resolveObject(Object obj) {
                return obj instanceof PackedFloats packed ? packed.values : obj;
            }
        }) {
            return in.readObject();
        } catch (IOException | ClassNotFoundException e) {
            throw new IllegalStateException("cannot deserialise an endpoint message", e);
        }
    }

    /** Writes every float[] of a message as one block of bytes ({@link PackedFloats}) instead of value by value. */
    private static final class PackingOutputStream extends ObjectOutputStream {
        PackingOutputStream(java.io.OutputStream out) throws IOException {
            super(out);
            enableReplaceObject(true);
        }

        @Override
        protected Object replaceObject(Object obj) {
            return obj instanceof float[] values ? new PackedFloats(values) : obj;
        }
    }

    /**
     * A float[] on the wire as little-endian bytes copied in bulk: Java serialisation writes a float[] one value at a
     * time.
     */
    private static final class PackedFloats implements Serializable {
        private static final long serialVersionUID = 1L;
        private transient float[] values;

        PackedFloats(float[] values) {
            this.values = values;
        }

        private void writeObject(ObjectOutputStream out) throws IOException {
            byte[] bytes = new byte[values.length * Float.BYTES];
            java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(values);
            out.writeInt(values.length);
            out.write(bytes);
        }

        private void readObject(ObjectInputStream in) throws IOException {
            byte[] bytes = new byte[in.readInt() * Float.BYTES];
            in.readFully(bytes);
            values = new float[bytes.length / Float.BYTES];
            java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        }
    }

    /** In an executor: a client of the driver's endpoint {@code name}. */
    public static EndpointClient driverEndpoint(String name) {
        SparkEnv env = SparkEnv.get();
        if (org.apache.spark.SparkContext$.MODULE$.DRIVER_IDENTIFIER().equals(env.executorId())) { // local mode
            Endpoint local = IN_THIS_JVM.get(name);
            if (local == null) {
                throw new IllegalStateException("the driver has no endpoint " + name + " (closed?)");
            }
            return new EndpointClient(null, local, name);
        }
        return new EndpointClient(RpcUtils.makeDriverRef(name, env.conf(), env.rpcEnv()), null, name);
    }

    /**
     * Spark's own count of the task slots of the registered executors (cores / spark.task.cpus), the number its
     * barrier-stage check compares with.
     */
    public static int concurrentTaskSlots(SparkContext sc) {
        return sc.maxNumConcurrentTasks(sc.resourceProfileManager().defaultResourceProfile());
    }

    /**
     * How often Spark tries a task here (local[N] once, local[N,M] M times, clusters spark.task.maxFailures), from
     * the scheduler itself rather than a second parser for the master URL.
     */
    public static int taskAttempts(SparkContext sc) {
        if (sc.taskScheduler() instanceof TaskSchedulerImpl scheduler) {
            return scheduler.maxTaskFailures();
        }
        return sc.getConf().getInt("spark.task.maxFailures", 4);
    }

    /**
     * Writes {@code rows} as ONE Parquet file at {@code file}, in this JVM, with the writer Spark's own Parquet
     * source uses ({@code ParquetWriteSupport}: the same Parquet schema, Spark row metadata, timestamp type and
     * list layout as {@code Dataset.write().parquet}, so any Spark reads it back as it wrote it), and no Spark job.
     * Why no job: a job needs a free task slot, and in local mode the training's barrier stage holds every slot,
     * so a metrics write would wait for the epoch to end.
     */
    private static final String[] PARQUET_WRITE_KEYS = {"spark.sql.parquet.writeLegacyFormat",
            "spark.sql.parquet.outputTimestampType", "spark.sql.parquet.fieldId.write.enabled",
            "spark.sql.legacy.parquet.nanosAsLong", "spark.sql.parquet.variant.annotateLogicalType.enabled"};

    /** One row of a frame as {@link #mapRowPartitions} reads it: the row of the moment, valid until the next. */
    public interface FrameRow {
        boolean isNullAt(int ordinal);

        double getDouble(int ordinal);

        /**
         * The ML vector in field {@code ordinal} as float32 into {@code out} from {@code offset}, if its size is
         * {@code size}; returns its size either way.
         */
        int vectorInto(int ordinal, float[] out, int offset, int size);
    }

    /**
     * One value per partition of {@code frame}, made by {@code perPartition} from its rows read as Catalyst's
     * internal rows: no {@code Row} object and no {@code double[]} of a vector is made for each row.
     */
    public static <T> org.apache.spark.api.java.JavaRDD<T> mapRowPartitions(org.apache.spark.sql.Dataset<?> frame,
            org.apache.spark.api.java.function.Function<java.util.Iterator<FrameRow>, T> perPartition) {
        return frame.queryExecution().toRdd().toJavaRDD().mapPartitions(rows -> {
            InternalFrameRow row = new InternalFrameRow();
            java.util.Iterator<FrameRow> each = new java.util.Iterator<>() {
                @Override
                public boolean hasNext() {
                    return rows.hasNext();
                }

                @Override
                public FrameRow next() {
                    row.current = rows.next(); // Catalyst reuses its row objects: read before the next
                    return row;
                }
            };
            return java.util.List.of(perPartition.call(each)).iterator();
        });
    }

    /**
     * A {@link FrameRow} over Catalyst's row. Vectors are read in VectorUDT's SQL layout (stable since Spark 2.0): a
     * struct of type (0 sparse, 1 dense), size, indices, values.
     */
    static final class InternalFrameRow implements FrameRow {
        org.apache.spark.sql.catalyst.InternalRow current;

        @Override
        public boolean isNullAt(int ordinal) {
            return current.isNullAt(ordinal);
        }

        @Override
        public double getDouble(int ordinal) {
            return current.getDouble(ordinal);
        }

        @Override
        public int vectorInto(int ordinal, float[] out, int offset, int size) {
            org.apache.spark.sql.catalyst.InternalRow v = current.getStruct(ordinal, 4);
            org.apache.spark.sql.catalyst.util.ArrayData values = v.getArray(3);
            boolean dense = v.getByte(0) == 1;
            int n = dense ? values.numElements() : v.getInt(1);
            if (n != size) {
                return n;
            }
            if (dense) {
                for (int j = 0; j < n; j++) {
                    out[offset + j] = (float) values.getDouble(j);
                }
            } else {
                java.util.Arrays.fill(out, offset, offset + n, 0f);
                org.apache.spark.sql.catalyst.util.ArrayData indices = v.getArray(2);
                for (int k = 0; k < values.numElements(); k++) {
                    out[offset + indices.getInt(k)] = (float) values.getDouble(k);
                }
            }
            return n;
        }
    }

    public static void writeParquetFile(org.apache.spark.sql.SparkSession spark,
                                        org.apache.spark.sql.types.StructType schema,
                                        java.util.List<org.apache.spark.sql.Row> rows,
                                        org.apache.hadoop.fs.Path file) throws IOException {
        org.apache.hadoop.conf.Configuration conf =
                new org.apache.hadoop.conf.Configuration(spark.sparkContext().hadoopConfiguration());
        org.apache.spark.sql.execution.datasources.parquet.ParquetWriteSupport.setSchema(schema, conf);
        // what Spark's ParquetUtils.prepareWrite copies from the session for its writers: the first four on 3.5 and
        // 4.x, the variant annotation on 4.x only (4.x's schema converter reads it, and fails if it is missing); a
        // key this Spark does not define is left out, as its writer does not read it
        for (String key : PARQUET_WRITE_KEYS) {
            scala.Option<String> value = spark.conf().getOption(key);
            if (value.isDefined()) {
                conf.set(key, value.get());
            }
        }
        var support = new org.apache.spark.sql.execution.datasources.parquet.ParquetWriteSupport();
        scala.Function1<Object, Object> toCatalyst =
                org.apache.spark.sql.catalyst.CatalystTypeConverters$.MODULE$.createToCatalystConverter(schema);
        org.apache.spark.sql.SparkSession active = org.apache.spark.sql.SparkSession.getActiveSession().getOrElse(
                () -> null);
        org.apache.spark.sql.SparkSession.setActiveSession(spark); // the writer reads its rebase modes from it
        try (org.apache.parquet.hadoop.ParquetWriter<org.apache.spark.sql.catalyst.InternalRow> writer =
                     new RowWriterBuilder(org.apache.parquet.hadoop.util.HadoopOutputFile.fromPath(file, conf), support)
                             .withConf(conf)
                             .withCompressionCodec(org.apache.parquet.hadoop.metadata.CompressionCodecName.SNAPPY)
                             .withWriteMode(org.apache.parquet.hadoop.ParquetFileWriter.Mode.CREATE)
                             .build()) {
            for (org.apache.spark.sql.Row row : rows) {
                writer.write((org.apache.spark.sql.catalyst.InternalRow) toCatalyst.apply(row));
            }
        } finally {
            if (active == null) {
                org.apache.spark.sql.SparkSession.clearActiveSession();
            } else {
                org.apache.spark.sql.SparkSession.setActiveSession(active);
            }
        }
    }

    private static final class RowWriterBuilder extends org.apache.parquet.hadoop.ParquetWriter.Builder<
            org.apache.spark.sql.catalyst.InternalRow, RowWriterBuilder> {
        private final org.apache.spark.sql.execution.datasources.parquet.ParquetWriteSupport support;

        RowWriterBuilder(org.apache.parquet.io.OutputFile file,
                         org.apache.spark.sql.execution.datasources.parquet.ParquetWriteSupport support) {
            super(file);
            this.support = support;
        }

        @Override
        protected RowWriterBuilder self() {
            return this;
        }

        @Override
        protected org.apache.parquet.hadoop.api.WriteSupport<org.apache.spark.sql.catalyst.InternalRow>
        getWriteSupport(org.apache.hadoop.conf.Configuration conf) {
            return support;
        }
    }
}
