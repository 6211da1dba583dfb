package io.github.sparkdropout.train;

import io.github.sparkdropout.model.DropoutMlp;
import io.github.sparkdropout.model.Variant;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The lean ND4J step and DL4J's fit are the same SGD step: same parameters, loss and accuracy after each step. */
class LeanSgdStepTest {
    @ParameterizedTest(name = "{0} dropout {1}/{2}")
    @CsvSource({"SCRATCH, 0.0, 0.0", "CONCISE, 0.0, 0.0", "SCRATCH, 0.2, 0.5", "CONCISE, 0.2, 0.5"})
    void leanStepEqualsDl4jFit(Variant variant, double p1, double p2) {
        MultiLayerNetwork a = DropoutMlp.create(variant, 0.5, p1, p2, 3);
        MultiLayerNetwork b = DropoutMlp.create(variant, 0.5, p1, p2, 3);
        assertEquals(a.params(), b.params());
        MinibatchStep lean = new LeanSgdStep();
        MinibatchStep dl4j = new Dl4jFitStep();
        Nd4j.getRandom().setSeed(99);
        INDArray x = Nd4j.rand(DataType.FLOAT, 64, 784);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 64, 10);
        for (int i = 0; i < 64; i++) {
            y.putScalar(i, (i * 7) % 10, 1f);
        }
        for (int step = 0; step < 5; step++) {
            // the same RNG state before each step, so both draw the same dropout masks in the same order
            Nd4j.getRandom().setSeed(1000 + step);
            MinibatchStep.Outcome oa = lean.step(a, x, y);
            Nd4j.getRandom().setSeed(1000 + step);
            MinibatchStep.Outcome ob = dl4j.step(b, x, y);
            double diff = Nd4j.math().abs(a.params().sub(b.params())).maxNumber().doubleValue();
            assertTrue(diff <= 1e-5, "step " + step + ": max |lean - dl4j| = " + diff);
            assertEquals(ob.meanLoss(), oa.meanLoss(), 1e-4, "loss of step " + step);
            assertEquals(ob.correct(), oa.correct(), "correct predictions of step " + step);
        }
        assertTrue(a.params().sub(DropoutMlp.create(variant, 0.5, p1, p2, 3).params()).norm2Number()
                .doubleValue() > 1e-3, "the steps did move the parameters");
    }
}
