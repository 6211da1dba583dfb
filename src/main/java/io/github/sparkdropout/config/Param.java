package io.github.sparkdropout.config;

import java.util.Locale;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * One setting, declared once: its name (the flag is {@code --name}), what it means, how its text is parsed
 * and which values are valid. Defaults live in {@code conf/train.properties}, not here.
 */
public final class Param<T> {
    private final String name;
    private final String description;
    private final Function<String, T> parser;
    private final Predicate<T> validator;
    private final String rule;

    private Param(String name, String description, Function<String, T> parser, Predicate<T> validator, String rule) {
        this.name = name;
        this.description = description;
        this.parser = parser;
        this.validator = validator;
        this.rule = rule;
    }

    public static Param<Integer> intParam(String name, String description, int min) {
        return new Param<>(name, description, Integer::parseInt, v -> v >= min, "an integer >= " + min);
    }

    public static Param<Long> longParam(String name, String description) {
        return new Param<>(name, description, Long::parseLong, v -> true, "an integer");
    }

    public static Param<Double> doubleParam(String name, String description, double min, double max,
                                            boolean minInclusive) {
        String rule = "a number in " + (minInclusive ? "[" : "(") + min + ", " + max + "]";
        return new Param<>(name, description, Double::parseDouble,
                v -> !v.isNaN() && (minInclusive ? v >= min : v > min) && v <= max, rule);
    }

    public static Param<String> stringParam(String name, String description, String regex, String rule) {
        return new Param<>(name, description, s -> s, v -> v.matches(regex), rule);
    }

    public static <E extends Enum<E>> Param<E> enumParam(String name, String description, Class<E> type) {
        StringBuilder choices = new StringBuilder();
        for (E e : type.getEnumConstants()) {
            choices.append(choices.length() == 0 ? "" : "|").append(e.name().toLowerCase(Locale.ROOT));
        }
        return new Param<>(name, description, s -> Enum.valueOf(type, s.trim().toUpperCase(Locale.ROOT)),
                v -> true, "one of " + choices);
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

    /** Parses and validates {@code raw}; a bad value is a one-line {@link ConfigException}. */
    public T parse(String raw) {
        T value;
        try {
            value = parser.apply(raw.trim());
        } catch (RuntimeException e) {
            throw new ConfigException("--" + name + " '" + raw + "' is not valid: expected " + rule);
        }
        if (!validator.test(value)) {
            throw new ConfigException("--" + name + " " + raw + " is out of range: expected " + rule);
        }
        return value;
    }
}
