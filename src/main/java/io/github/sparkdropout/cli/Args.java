package io.github.sparkdropout.cli;

import io.github.sparkdropout.config.UsageException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code --name value}, {@code --name=value} and bare {@code --flag} options, plus positional words. */
final class Args {
    final Map<String, String> options = new LinkedHashMap<>();
    final Map<String, List<String>> repeated = new LinkedHashMap<>();
    final List<String> positional = new ArrayList<>();

    /**
     * @param flags   options that take no value
     * @param multi   options that may repeat (all values kept in {@link #repeated})
     */
    static Args parse(String[] argv, Set<String> flags, Set<String> multi) {
        Args a = new Args();
        for (int i = 0; i < argv.length; i++) {
            String s = argv[i];
            if (!s.startsWith("--") || s.equals("--")) {
                a.positional.add(s);
                continue;
            }
            String name = s.substring(2);
            String value;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else if (flags.contains(name)) {
                value = "true";
            } else {
                if (i + 1 >= argv.length) {
                    throw new UsageException("option --" + name + " needs a value");
                }
                value = argv[++i];
            }
            if (multi.contains(name)) {
                a.repeated.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
            } else if (a.options.put(name, value) != null) {
                throw new UsageException("option --" + name + " given twice");
            }
        }
        return a;
    }

    boolean flag(String name) {
        return Boolean.parseBoolean(options.remove(name));
    }
}
