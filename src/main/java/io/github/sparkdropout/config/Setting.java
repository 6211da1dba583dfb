package io.github.sparkdropout.config;

import java.io.Serializable;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * One setting, declared once: its name (the flag is {@code --name}), what it means, its type, how its text is
 * parsed and which values are valid, and the metrics-table column that records it (or none). Defaults live in
 * {@code conf/train.properties}, not here.
 */
public final class Setting<T> implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The text of an integer setting that the deployment decides ({@link #intOrAuto}). */
    public static final String AUTO = "auto";

    private final String name;
    private final String description;
    private final Class<T> type;
    private final SerializableFunction<String, T> parser;
    private final SerializablePredicate<T> validator;
    private final String rule;
    private final boolean auto;
    private final String column;

    private interface SerializableFunction<A, B> extends Function<A, B>, Serializable {
    }

    /** A rule of valid values, kept with the setting (the Estimator's params are serialised with it). */
    public interface SerializablePredicate<A> extends Predicate<A>, Serializable {
    }

    private Setting(String name, String description, Class<T> type, SerializableFunction<String, T> parser,
                  SerializablePredicate<T> validator, String rule, boolean auto, String column) {
        this.name = name;
        this.description = description;
        this.type = type;
        this.parser = parser;
        this.validator = validator;
        this.rule = rule;
        this.auto = auto;
        this.column = column;
    }

    private static String columnOf(String name) {
        return name.replace('-', '_');
    }

    public static Setting<Integer> intSetting(String name, String description, int min) {
        return new Setting<>(name, description, Integer.class, Integer::parseInt, v -> v >= min, "an integer >= " + min,
                false, columnOf(name));
    }

    /**
     * An integer >= {@code min}, or {@value #AUTO}: the deployment decides. Auto is no number: its value is null
     * until the run resolves it ({@link TrainConfig#resolve}).
     */
    public static Setting<Integer> intOrAuto(String name, String description, int min) {
        return new Setting<>(name, description, Integer.class, s -> s.equals(AUTO) ? null : Integer.parseInt(s),
                v -> v == null || v >= min, AUTO + " or an integer >= " + min, true, columnOf(name));
    }

    /** Whether {@code value} of this setting is {@value #AUTO}. */
    public boolean isAuto(Object value) {
        return auto && value == null;
    }

    /** Whether this setting may be {@value #AUTO}. */
    public boolean allowsAuto() {
        return auto;
    }

    public static Setting<Long> longSetting(String name, String description) {
        return new Setting<>(name, description, Long.class, Long::parseLong, v -> true, "an integer", false, columnOf(name));
    }

    public static Setting<Double> doubleSetting(String name, String description, double min, double max,
                                            boolean minInclusive) {
        String rule = "a number in " + (minInclusive ? "[" : "(") + min + ", " + max + "]";
        return new Setting<>(name, description, Double.class, Double::parseDouble,
                v -> !v.isNaN() && (minInclusive ? v >= min : v > min) && v <= max, rule, false, columnOf(name));
    }

    public static Setting<String> stringSetting(String name, String description, String regex, String rule) {
        return new Setting<>(name, description, String.class, s -> s, v -> v.matches(regex), rule, false,
                columnOf(name));
    }

    public static <E extends Enum<E>> Setting<E> enumSetting(String name, String description, Class<E> type) {
        StringBuilder choices = new StringBuilder();
        for (E e : type.getEnumConstants()) {
            choices.append(choices.length() == 0 ? "" : "|").append(e.name().toLowerCase(Locale.ROOT));
        }
        return new Setting<>(name, description, type, s -> Enum.valueOf(type, s.toUpperCase(Locale.ROOT)), v -> true,
                "one of " + choices, false, columnOf(name));
    }

    /**
     * A list of integers, comma-separated ({@code 784,256,256,10}), each >= {@code min}, at least
     * {@code minLength} of them; {@code valid} adds the rules of the whole list (described by {@code rule}).
     */
    public static Setting<int[]> intList(String name, String description, int min, int minLength,
                                         SerializablePredicate<int[]> valid, String rule) {
        return new Setting<>(name, description, int[].class,
                s -> java.util.Arrays.stream(s.split(",", -1)).mapToInt(v -> Integer.parseInt(v.trim())).toArray(),
                v -> v.length >= minLength && java.util.Arrays.stream(v).allMatch(x -> x >= min) && valid.test(v),
                rule, false, columnOf(name));
    }

    /**
     * A list of numbers in [{@code min}, {@code max}], comma-separated ({@code 0.2,0.5}), or {@value #AUTO}: a
     * rule decides from other settings (its value is null until then).
     */
    public static Setting<double[]> doubleListOrAuto(String name, String description, double min, double max) {
        return new Setting<>(name, description, double[].class, s -> s.equals(AUTO) ? null
                : java.util.Arrays.stream(s.split(",", -1)).mapToDouble(v -> Double.parseDouble(v.trim())).toArray(),
                v -> v == null || java.util.Arrays.stream(v).allMatch(x -> x >= min && x <= max),
                AUTO + " or numbers in [" + min + ", " + max + "], comma-separated", true, columnOf(name));
    }

    /** This setting recorded in the metrics table's column {@code column}. */
    public Setting<T> recordedAs(String column) {
        return new Setting<>(name, description, type, parser, validator, rule, auto, column);
    }

    /** This setting not recorded in the metrics table (it names where things are, not what was trained). */
    public Setting<T> notRecorded() {
        return new Setting<>(name, description, type, parser, validator, rule, auto, null);
    }

    public String name() {
        return name;
    }

    public String description() {
        return description;
    }

    public String rule() {
        return rule;
    }

    public Class<T> type() {
        return type;
    }

    /** The metrics-table column that records this setting, or null. */
    public String column() {
        return column;
    }

    /** Parses and validates {@code raw}; a bad value is a one-line {@link UsageException}. */
    public T parse(String raw) {
        T value;
        try {
            value = parser.apply(raw.trim());
        } catch (RuntimeException e) {
            throw new UsageException("--" + name + " '" + raw + "' is not valid: expected " + rule);
        }
        if (!validator.test(value)) {
            throw new UsageException("--" + name + " " + raw + " is out of range: expected " + rule);
        }
        return value;
    }

    /**
     * How {@code value} reads on the command line (enums lower-case, lists comma-separated, an unresolved "auto"
     * as auto).
     */
    public String format(Object value) {
        if (value instanceof Enum<?> e) {
            return e.name().toLowerCase(Locale.ROOT);
        }
        if (isAuto(value)) {
            return AUTO;
        }
        if (value instanceof int[] ints) {
            return java.util.Arrays.stream(ints).mapToObj(Integer::toString)
                    .collect(java.util.stream.Collectors.joining(","));
        }
        if (value instanceof double[] doubles) {
            return java.util.Arrays.stream(doubles).mapToObj(Double::toString)
                    .collect(java.util.stream.Collectors.joining(","));
        }
        return String.valueOf(value);
    }

    /** Whether two values of this setting are the same (lists by their elements). */
    public boolean same(Object a, Object b) {
        return java.util.Objects.deepEquals(a, b);
    }

    /**
     * The value as recorded in its column: enums by their lower-case name, lists as arrays of boxed values, an
     * unresolved "auto" as null.
     */
    public Object recorded(Object value) {
        if (value instanceof Enum<?> e) {
            return e.name().toLowerCase(Locale.ROOT);
        }
        if (value instanceof int[] ints) {
            return java.util.Arrays.stream(ints).boxed().toArray(Integer[]::new);
        }
        if (value instanceof double[] doubles) {
            return java.util.Arrays.stream(doubles).boxed().toArray(Double[]::new);
        }
        if (isAuto(value)) {
            return null;
        }
        return value;
    }
}
