package io.github.sparkdropout.bench;

import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.tukaani.xz.XZInputStream;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * Reads a data frame out of an R data file ({@code .rda}, as R packages ship their data sets: {@code save()}'s
 * format, gzip, bzip2 or xz compressed, R's XDR serialization version 2 or 3), without R. Only what a data frame
 * of numbers and factors needs: double, integer, logical and string vectors, lists, attributes, symbols and
 * references to them. Anything else (closures, environments, bytecode) is refused: a data set has none.
 */
final class RData {
    /** A data frame: its column names in order, each column a double[] (NA: NaN) or a {@link Factor}. */
    record Frame(String name, Map<String, Object> columns, int rows) {
    }

    /** A factor column: codes 1..levels.length (R's), 0 for NA. */
    record Factor(int[] codes, String[] levels) {
    }

    private static final int NILSXP = 0, SYMSXP = 1, LISTSXP = 2, CHARSXP = 9, LGLSXP = 10, INTSXP = 13,
            REALSXP = 14, STRSXP = 16, VECSXP = 19, REFSXP = 255, NILVALUE_SXP = 254, GLOBALENV_SXP = 253,
            EMPTYENV_SXP = 242, BASEENV_SXP = 241;
    private static final int NA_INTEGER = Integer.MIN_VALUE;

    private final DataInputStream in;
    private final List<Object> refs = new ArrayList<>();

    private RData(DataInputStream in) {
        this.in = in;
    }

    /** The one data frame {@code file} holds (its first object, by name). */
    static Frame readFrame(Path file) throws IOException {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file))) {
            raw.mark(8);
            byte[] magic = raw.readNBytes(6);
            raw.reset();
            InputStream data;
            if ((magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
                data = new GZIPInputStream(raw);
            } else if (magic[0] == 'B' && magic[1] == 'Z' && magic[2] == 'h') {
                data = new BZip2CompressorInputStream(raw);
            } else if ((magic[0] & 0xff) == 0xfd && magic[1] == '7' && magic[2] == 'z' && magic[3] == 'X') {
                data = new XZInputStream(raw);
            } else {
                data = raw;
            }
            DataInputStream in = new DataInputStream(new BufferedInputStream(data, 1 << 16));
            String header = new String(in.readNBytes(5), StandardCharsets.US_ASCII);
            if (!header.equals("RDX2\n") && !header.equals("RDX3\n")) {
                throw new IOException(file + ": not an R data file (header " + header.strip() + ")");
            }
            String format = new String(in.readNBytes(2), StandardCharsets.US_ASCII);
            if (!format.equals("X\n")) {
                throw new IOException(file + ": only XDR (binary big-endian) R data files are read, not '"
                        + format.strip() + "'");
            }
            int version = in.readInt();
            in.readInt(); // the R version that wrote it
            in.readInt(); // the oldest R version that reads it
            if (version == 3) {
                in.readNBytes(in.readInt()); // the native encoding's name
            } else if (version != 2) {
                throw new IOException(file + ": R serialization version " + version + " (2 or 3 are read)");
            }
            RData reader = new RData(in);
            Object saved = reader.item();
            if (!(saved instanceof Node first)) {
                throw new IOException(file + ": no object saved");
            }
            return reader.frame(first.tag, first.value, file);
        }
    }

    /** A pairlist cell: tag (a symbol's name or null), value, attributes. */
    private record Node(String tag, Object value, Node next) {
    }

    /** A vector with its attributes (names, levels, class, row.names...). */
    private record Attributed(Object value, Map<String, Object> attributes) {
    }

    private record Symbol(String name) {
    }

    private Frame frame(String name, Object value, Path file) throws IOException {
        if (!(value instanceof Attributed a) || !(a.value instanceof Object[] cols)
                || !(a.attributes.get("names") instanceof String[] names)) {
            throw new IOException(file + ": '" + name + "' is not a data frame");
        }
        Map<String, Object> columns = new LinkedHashMap<>();
        int rows = -1;
        for (int i = 0; i < cols.length; i++) {
            Object c = cols[i];
            Object column;
            int n;
            if (c instanceof Attributed ca && ca.value instanceof int[] codes
                    && ca.attributes.get("levels") instanceof String[] levels) {
                int[] copy = codes.clone();
                for (int r = 0; r < copy.length; r++) {
                    copy[r] = copy[r] == NA_INTEGER ? 0 : copy[r];
                }
                column = new Factor(copy, levels);
                n = copy.length;
            } else {
                Object v = c instanceof Attributed ca ? ca.value : c;
                double[] d;
                if (v instanceof double[] dv) {
                    d = dv;
                } else if (v instanceof int[] iv) {
                    d = new double[iv.length];
                    for (int r = 0; r < iv.length; r++) {
                        d[r] = iv[r] == NA_INTEGER ? Double.NaN : iv[r];
                    }
                } else {
                    throw new IOException(file + ": column '" + names[i] + "' is neither numbers nor a factor");
                }
                column = d;
                n = d.length;
            }
            if (rows >= 0 && n != rows) {
                throw new IOException(file + ": columns of different lengths (" + rows + ", " + n + ")");
            }
            rows = n;
            columns.put(names[i], column);
        }
        return new Frame(name, columns, rows);
    }

    private Object item() throws IOException {
        int flags = in.readInt();
        int type = flags & 0xff;
        boolean hasAttr = (flags & (1 << 9)) != 0;
        boolean hasTag = (flags & (1 << 10)) != 0;
        switch (type) {
            case NILVALUE_SXP, GLOBALENV_SXP, EMPTYENV_SXP, BASEENV_SXP:
                return null;
            case REFSXP: {
                int index = flags >>> 8;
                if (index == 0) {
                    index = in.readInt();
                }
                return refs.get(index - 1);
            }
            case SYMSXP: {
                Object name = item(); // a CHARSXP
                Symbol s = new Symbol((String) name);
                refs.add(s);
                return s;
            }
            case LISTSXP: {
                // iterative over the cdr chain: attributes, tag, car, then the rest
                List<Node> cells = new ArrayList<>();
                int f = flags;
                while (true) {
                    if ((f & (1 << 9)) != 0) {
                        item(); // a pairlist cell's own attributes: not used
                    }
                    String tag = (f & (1 << 10)) != 0 ? ((Symbol) item()).name : null;
                    cells.add(new Node(tag, item(), null));
                    f = in.readInt();
                    if ((f & 0xff) == NILVALUE_SXP) {
                        break;
                    }
                    if ((f & 0xff) != LISTSXP) {
                        throw new IOException("a pairlist ending in type " + (f & 0xff) + " is not read");
                    }
                }
                Node head = null;
                for (int i = cells.size() - 1; i >= 0; i--) {
                    head = new Node(cells.get(i).tag, cells.get(i).value, head);
                }
                return head;
            }
            case CHARSXP: {
                int n = in.readInt();
                return n == -1 ? null : new String(in.readNBytes(n), StandardCharsets.UTF_8);
            }
            case LGLSXP, INTSXP: {
                int[] v = new int[length()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = in.readInt();
                }
                return attributed(v, hasAttr);
            }
            case REALSXP: {
                double[] v = new double[length()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = in.readDouble();
                }
                return attributed(v, hasAttr);
            }
            case STRSXP: {
                String[] v = new String[length()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (String) item();
                }
                return attributed(v, hasAttr);
            }
            case VECSXP: {
                Object[] v = new Object[length()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = item();
                }
                return attributed(v, hasAttr);
            }
            case NILSXP:
                return null;
            default:
                throw new IOException("R object of type " + type + " (tag " + hasTag + ") is not read here: not a"
                        + " data frame of numbers and factors");
        }
    }

    private int length() throws IOException {
        int n = in.readInt();
        if (n == -1) {
            long big = ((long) in.readInt() << 32) | (in.readInt() & 0xffffffffL);
            throw new IOException("a vector of " + big + " elements is too long to read here");
        }
        return n;
    }

    private Object attributed(Object value, boolean hasAttr) throws IOException {
        if (!hasAttr) {
            return value;
        }
        Map<String, Object> attributes = new LinkedHashMap<>();
        for (Node n = (Node) item(); n != null; n = n.next) {
            Object v = n.value instanceof Attributed a ? a.value : n.value;
            attributes.put(n.tag, v);
        }
        return new Attributed(value, attributes);
    }
}
