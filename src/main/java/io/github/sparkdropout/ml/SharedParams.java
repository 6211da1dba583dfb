package io.github.sparkdropout.ml;

import io.github.sparkdropout.config.UsageException;
import io.github.sparkdropout.config.Setting;
import io.github.sparkdropout.config.TrainConfig;
import org.apache.spark.ml.param.DoubleArrayParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntArrayParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import scala.runtime.AbstractFunction1;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Spark ML params made from the job's own setting declarations ({@link TrainConfig#PARAMS}: name, meaning, rule)
 * and defaults ({@code conf/train.properties}): the Estimator and the command line share one declaration, so a
 * value the CLI refuses, the Estimator refuses too. Names are the flags in camelCase ({@code --batch-size} is
 * {@code batchSize}); enum settings are strings, as on the command line; lists are arrays; "auto" integers are
 * {@link #SPARK_AUTO}, an "auto" list is unset.
 */
final class SharedParams {
    /** The settings a fit takes: all but where the data comes from (the frame is the data). */
    static final List<Setting<?>> FIT_SETTINGS = TrainConfig.SETTINGS.stream()
            .filter(p -> p != TrainConfig.DATA && p != TrainConfig.TRAIN_LIMIT && p != TrainConfig.TEST_LIMIT)
            .toList();

    private SharedParams() {
    }

    /** {@code batch-size} -> {@code batchSize}. */
    static String camelCase(String flag) {
        StringBuilder sb = new StringBuilder();
        boolean upper = false;
        for (char c : flag.toCharArray()) {
            if (c == '-') {
                upper = true;
            } else {
                sb.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            }
        }
        return sb.toString();
    }

    /** The Spark ML params of {@link #FIT_SETTINGS}, owned by {@code owner} (its uid set), by declaration. */
    static Map<Setting<?>, Param<?>> declare(org.apache.spark.ml.param.Params owner) {
        String parent = owner.uid(); // the array params take their owner itself
        Map<Setting<?>, Param<?>> out = new LinkedHashMap<>();
        for (Setting<?> p : FIT_SETTINGS) {
            String name = camelCase(p.name());
            String doc = p.description() + " (" + p.rule() + ")";
            out.put(p, p.type() == Integer.class ? new IntParam(parent, name, doc, new Accepts<>(p))
                    : p.type() == Long.class ? new LongParam(parent, name, doc, new Accepts<>(p))
                    : p.type() == Double.class ? new DoubleParam(parent, name, doc, new Accepts<>(p))
                    : p.type() == int[].class ? new IntArrayParam(owner, name, doc, new Accepts<>(p))
                    : p.type() == double[].class ? new DoubleArrayParam(owner, name, doc, new Accepts<>(p))
                    : new Param<String>(parent, name, doc, new Accepts<String>(p)));
        }
        return out;
    }

    /** The packaged defaults, read once (every Estimator copy, e.g. in a CrossValidator, needs them). */
    private static final Map<String, String> DEFAULTS = TrainConfig.defaults();

    /**
     * The default of {@code p} as its Spark param holds it, or null where the fit has none: metrics, layers (the
     * frame's shape decides, see {@link #defaultHidden}) and a list that is "auto" (a rule decides).
     */
    static Object sparkDefault(Setting<?> p) {
        if (p == TrainConfig.METRICS || p == TrainConfig.LAYERS) {
            return null; // a fit records its epochs only when asked to; the frame gives the input and output sizes
        }
        Object value = p.parse(DEFAULTS.get(p.name()));
        return value == null && !(p.type() == Integer.class) ? null : sparkValue(p, value);
    }

    /** The hidden layers of the packaged default {@code layers}: the network's middle when the frame gives its ends. */
    static int[] defaultHidden() {
        int[] layers = TrainConfig.LAYERS.parse(DEFAULTS.get(TrainConfig.LAYERS.name()));
        return java.util.Arrays.copyOfRange(layers, 1, layers.length - 1);
    }

    /**
     * An integer Spark param holds an int, so there "auto" is {@value}: the Estimator's one sentinel, as MLlib's
     * integer params take one; the settings themselves know auto as no number.
     */
    static final int SPARK_AUTO = 0;

    /** A setting's value as its Spark param holds it: enums by lower-case name, auto as {@link #SPARK_AUTO}. */
    static Object sparkValue(Setting<?> p, Object value) {
        if (p.isAuto(value)) {
            return SPARK_AUTO;
        }
        return value instanceof Enum<?> e ? e.name().toLowerCase(Locale.ROOT) : value;
    }

    /** A Spark param's value as its flag's text ({@link #SPARK_AUTO} of an "auto" integer reads "auto"). */
    static String flagText(Setting<?> p, Object sparkValue) {
        return p.allowsAuto() && Integer.valueOf(SPARK_AUTO).equals(sparkValue) ? Setting.AUTO : p.format(sparkValue);
    }

    /** A message of the command line's checks in the Estimator's terms: {@code --batch-size} reads {@code batchSize}. */
    static String inParamNames(String message) {
        return java.util.regex.Pattern.compile("--([a-z][a-z0-9-]*)").matcher(message)
                .replaceAll(m -> camelCase(m.group(1)));
    }

    /** A Spark param validator that asks the declaration (as the CLI's parser would). */
    private static final class Accepts<T> extends AbstractFunction1<T, Object> implements Serializable {
        private static final long serialVersionUID = 1L;
        private final Setting<?> declaration;

        Accepts(Setting<?> declaration) {
            this.declaration = declaration;
        }

        @Override
        public Object apply(T value) {
            try {
                declaration.parse(flagText(declaration, value));
                return true;
            } catch (UsageException e) {
                return false;
            }
        }
    }
}
