package io.github.sparkdropout.ml;

import io.github.sparkdropout.TestSpark;
import io.github.sparkdropout.model.DropoutMlp;
import io.github.sparkdropout.model.MlpShape;
import io.github.sparkdropout.model.Variant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A saved model or Estimator is read back from the directory its path names, whatever characters the path holds:
 * Spark ML's own reader reads the metadata with {@code textFile}, which globs, so {@code m[1]} read {@code m1}'s
 * metadata (another model's settings beside this one's network), or failed when there was no {@code m1}.
 */
class LiteralModelPathsTest {
    @TempDir
    Path dir;

    private static DropoutMlpModel model(String predictionCol) {
        TestSpark.get();
        DropoutMlpModel m = DropoutMlpModel.ofJobNetwork("dropoutMlp_" + predictionCol,
                DropoutMlp.create(Variant.SCRATCH, 0.5, new MlpShape(new int[]{4, 3, 2}, new double[]{0.2}), 1));
        m.setPredictionCol(predictionCol);
        return m;
    }

    private static Object predictionColOf(DropoutMlpModel m) {
        return m.getOrDefault(m.predictionCol());
    }

    @Test
    void aModelSavedUnderBracketsIsReadFromThereNotFromWhatTheBracketsMatch() throws Exception {
        model("other").write().save(dir.resolve("m1").toString());
        model("mine").write().save(dir.resolve("m[1]").toString());
        DropoutMlpModel read = DropoutMlpModel.load(dir.resolve("m[1]").toString());
        assertEquals("dropoutMlp_mine", read.uid());
        assertEquals("mine", predictionColOf(read));

        model("alone").write().save(dir.resolve("only{a,b}*?").toString()); // nothing else matches it
        assertEquals("alone", predictionColOf(DropoutMlpModel.load(dir.resolve("only{a,b}*?").toString())));
    }

    @Test
    void anEstimatorSavedUnderBracketsIsReadFromThere() throws Exception {
        TestSpark.get();
        new DropoutMlpClassifier().setEpochs(7).write().save(dir.resolve("e1").toString());
        new DropoutMlpClassifier().setEpochs(3).write().save(dir.resolve("e[1]").toString());
        assertEquals(3, DropoutMlpClassifier.load(dir.resolve("e[1]").toString()).getEpochs());
    }
}
