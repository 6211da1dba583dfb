package io.github.sparkdropout.cli;

import io.github.sparkdropout.config.UsageException;
import io.github.sparkdropout.model.InvertedDropout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** {@code dropout-demo [--seed N]}: the seed's first listing, with our {@link InvertedDropout}. */
final class DropoutDemo {
    static final String EXPLANATION = String.join("\n",
            "Why divide by 1 - p: dropout keeps each activation with probability q = 1 - p. Scaling the kept values",
            "by 1/q makes the expected training output equal the input: E[m * x / q] = q * x / q = x, with",
            "m ~ Bernoulli(q). At inference dropout is off and the layer passes x unchanged, so the next layer sees",
            "activations of the same expected size in training and inference. Without the division, training would",
            "see q * x on average and inference x: every later layer would be miscalibrated at test time.");

    private DropoutDemo() {
    }

    static int run(String[] argv) {
        Args args = Args.parse(argv, java.util.Set.of(), java.util.Set.of());
        long seed = 0;
        if (args.options.containsKey("seed")) {
            try {
                seed = Long.parseLong(args.options.remove("seed"));
            } catch (NumberFormatException e) {
                throw new UsageException("--seed must be an integer");
            }
        }
        if (!args.options.isEmpty() || !args.positional.isEmpty()) {
            throw new UsageException("dropout-demo takes only --seed N");
        }
        System.out.print(demo(seed));
        return 0;
    }

    static String demo(long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.arange(16).castTo(DataType.FLOAT).reshape(2, 8);
        StringBuilder sb = new StringBuilder();
        sb.append("X = arange(16).reshape(2, 8)\n").append(matrix(x)).append('\n');
        for (double p : new double[]{0.0, 0.5, 1.0}) {
            sb.append(String.format("dropout_layer(X, %.1f)%n", p)).append(matrix(InvertedDropout.apply(x, p)))
                    .append('\n');
        }
        return sb.append(EXPLANATION).append('\n').toString();
    }

    private static String matrix(INDArray m) {
        StringBuilder sb = new StringBuilder();
        for (int r = 0; r < m.rows(); r++) {
            sb.append(r == 0 ? "[[" : " [");
            for (int c = 0; c < m.columns(); c++) {
                sb.append(String.format("%5.1f", m.getFloat(r, c))).append(c + 1 < m.columns() ? "," : "");
            }
            sb.append(r + 1 < m.rows() ? "],\n" : "]]\n");
        }
        return sb.toString();
    }
}
