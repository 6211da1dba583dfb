package io.github.sparkdropout.train.aggregate;

import io.github.sparkdropout.model.HostBlas;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

/**
 * DL4J's parameter averaging: the plain mean of the parameter vectors of the workers that trained in a round, summed
 * in the order given (partition order, so every transport computes bit-identical means), then scaled by 1/n.
 *
 * <p>Computed natively into one reused buffer, by OpenBLAS's copy, axpy and scal ({@link HostBlas}): the mean is on
 * the critical path of every round while all workers wait, and these are vectorised, unlike a Java loop under local
 * mode's C1 JIT or ND4J's add and scale.
 */
public final class ParameterAveraging {
    private INDArray mean; // reused: valid until the next call

    /**
     * The mean of the contributions that trained, or null if none did. The result is this object's buffer: it holds
     * the mean until the next call.
     */
    public INDArray mean(List<Contribution> contributions) {
        int n = 0;
        for (Contribution c : contributions) {
            if (!c.trained()) {
                continue;
            }
            INDArray p = c.params();
            if (n == 0) {
                if (mean == null || mean.length() != p.length()) {
                    mean = Nd4j.createUninitialized(DataType.FLOAT, 1, p.length());
                }
                HostBlas.copy(p, mean);
            } else if (p.length() != mean.length()) {
                throw new IllegalArgumentException("parameter vectors of " + mean.length() + " and " + p.length()
                        + " values cannot be averaged");
            } else {
                HostBlas.add(p, mean);
            }
            n++;
        }
        if (n > 1) {
            // summed in partition order, then scaled: the same bits as a plain Java loop (tested)
            HostBlas.scale(1.0f / n, mean);
        }
        return n == 0 ? null : mean;
    }

    /** Examples the contributions trained on. */
    public static long examples(List<Contribution> contributions) {
        long n = 0;
        for (Contribution c : contributions) {
            n += c.examples();
        }
        return n;
    }
}
