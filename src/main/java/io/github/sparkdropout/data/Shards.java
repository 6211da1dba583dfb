package io.github.sparkdropout.data;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Collections;
import java.util.Iterator;

/**
 * What the trainer consumes: each partition of the (label, features) rows of {@link MnistFrames} turned into ONE DL4J
 * {@link DataSet} holding that worker's whole shard (features float32 [n, 784], labels one-hot [n, 10]), cached
 * in executor memory. Minibatches are cut from it in the executor, never shipped.
 */
public final class Shards {
    private Shards() {
    }

    /** Shards of (label, features) rows, e.g. {@link MnistFrames#rows}: one cached DataSet per partition. */
    public static JavaRDD<DataSet> of(JavaRDD<Row> rows, String name) {
        JavaRDD<DataSet> shards = rows.mapPartitions(Shards::toDataSet, true);
        shards.setName(name + " shards (one DL4J DataSet per worker)");
        return shards.persist(StorageLevel.MEMORY_ONLY());
    }

    static Iterator<DataSet> toDataSet(Iterator<Row> rows) {
        FloatBuffer features = new FloatBuffer();
        FloatBuffer labels = new FloatBuffer();
        int n = 0;
        while (rows.hasNext()) {
            Row r = rows.next();
            int label = (int) r.getDouble(0);
            double[] v = ((Vector) r.get(1)).toArray();
            features.ensure(v.length);
            for (double x : v) {
                features.add((float) x);
            }
            labels.ensure(FashionMnist.CLASSES);
            for (int c = 0; c < FashionMnist.CLASSES; c++) {
                labels.add(c == label ? 1f : 0f);
            }
            n++;
        }
        if (n == 0) {
            return Collections.emptyIterator();
        }
        INDArray f = features.toMatrix(n, FashionMnist.PIXELS);
        INDArray y = labels.toMatrix(n, FashionMnist.CLASSES);
        return Collections.singletonList(new DataSet(f, y)).iterator();
    }

    /** A growable float array (no boxing). */
    private static final class FloatBuffer {
        private float[] a = new float[1 << 16];
        private int size;

        void ensure(int more) {
            if (size + more > a.length) {
                a = java.util.Arrays.copyOf(a, Math.max(a.length * 2, size + more));
            }
        }

        void add(float v) {
            a[size++] = v;
        }

        /**
         * The values as a c-order float matrix, copied in bulk into the native buffer (ND4J's create(float[])
         * copies element by element: over a second for a 47 M-value shard).
         */
        INDArray toMatrix(int rows, int columns) {
            INDArray m = Nd4j.createUninitialized(DataType.FLOAT, rows, columns);
            java.nio.FloatBuffer view = m.data().asNioFloat();
            view.position(0);
            view.put(a, 0, size);
            return m;
        }
    }
}
