package io.github.sparkdropout.job;

import io.github.sparkdropout.config.TrainConfig;
import io.github.sparkdropout.data.DataProvenance;
import io.github.sparkdropout.data.FashionMnist;
import io.github.sparkdropout.data.MnistFrames;
import io.github.sparkdropout.data.ReadAhead;
import io.github.sparkdropout.data.Shards;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.dataset.DataSet;

/**
 * The run's data from the four Fashion-MNIST IDX files of its {@code --data} (any Hadoop filesystem): checked, cut
 * into one cached shard per worker and the evaluation shards. A new run takes the files the command already read
 * while Spark started, if they are the ones it needs; a continued run must find the data its checkpoint recorded.
 */
final class IdxFiles implements TrainingData.Source {
    private final SparkSession spark;
    private final CheckpointState continued;
    private final ReadAhead readAhead;

    /**
     * @param continued the checkpoint a continued run starts from (null: a new run)
     * @param readAhead the files read while Spark started (null: none)
     */
    IdxFiles(SparkSession spark, CheckpointState continued, ReadAhead readAhead) {
        this.spark = spark;
        this.continued = continued;
        this.readAhead = continued == null ? readAhead : null;
    }

    @Override
    public TrainingData load(TrainConfig cfg) {
        long t0 = System.nanoTime();
        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        ReadAhead.Splits ahead = readAhead != null
                ? readAhead.take(cfg.data(), cfg.trainLimit(), cfg.testLimit(), hadoop) : null;
        FashionMnist.Split train = ahead != null ? ahead.train() : FashionMnist.train(cfg.data(), cfg.trainLimit(),
                hadoop);
        FashionMnist.Split test = ahead != null ? ahead.test() : FashionMnist.test(cfg.data(), cfg.testLimit(), hadoop);
        if (continued != null) {
            continued.requireSameData(cfg.data(), train, test);
        }
        // training only cuts minibatches from its shards: they keep the images as bytes (a quarter of the memory)
        JavaRDD<DataSet> trainShards = Shards.ofBytes(MnistFrames.chunks(spark, train, cfg.workers(), cfg.seed()),
                "train");
        JavaRDD<DataSet> testShards = null;
        try {
            trainShards.count();
            int testPartitions = Math.min(cfg.workers(), test.count());
            JavaRDD<MnistFrames.Chunk> testChunks = MnistFrames.chunks(spark, test, testPartitions, null);
            testShards = testPartitions == trainShards.getNumPartitions()
                    ? Shards.beside(trainShards, testChunks, Shards::toDataSet, "test")
                    : Shards.of(testChunks, "test");
            testShards.count();
        } catch (RuntimeException e) { // no TrainingData to release yet: let go of what is cached
            trainShards.unpersist(false);
            if (testShards != null) {
                testShards.unpersist(false);
            }
            throw e;
        }
        JavaRDD<DataSet> cachedTest = testShards;
        // the run keeps what the splits were, not their bytes (the shards and the broadcast hold the examples)
        return new TrainingData(trainShards, cachedTest, DataProvenance.copyOf(train), DataProvenance.copyOf(test),
                FashionMnist.CLASS_NAMES, train.official() && test.official()
                ? " (official Fashion-MNIST checksums)" : " (checksums differ from official Fashion-MNIST)",
                (System.nanoTime() - t0) / 1e9, () -> {
                    trainShards.unpersist(false);
                    cachedTest.unpersist(false);
                });
    }
}
