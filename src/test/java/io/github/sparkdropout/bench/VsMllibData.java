package io.github.sparkdropout.bench;

import io.github.sparkdropout.data.Shuffle;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The tabular data sets of bench/vs-mllib.sh: real data that neither Spark's nor DL4J's authors made, each read
 * from the file a Debian package ships (bench/vs-mllib.sh extracts the packages; an installed package's file is used
 * if there is no extracted copy), and split into training and test rows by a fixed rule.
 */
final class VsMllibData {
    private VsMllibData() {
    }

    /** Seed of the shuffles that split a data set without an official split, and order the training rows. */
    static final long SPLIT_SEED = 42L;

    /** One data set, split: features as read (not scaled), labels 0..k-1. */
    record Split(String name, String source, double[][] trainX, int[] trainY, double[][] testX, int[] testY,
                 String[] classes) {
        int features() {
            return trainX[0].length;
        }

        /** The first {@code n} training rows only (a trial); 0: all. */
        Split limitTrain(int n) {
            if (n <= 0 || n >= trainY.length) {
                return this;
            }
            return new Split(name, source, Arrays.copyOf(trainX, n), Arrays.copyOf(trainY, n), testX, testY,
                    classes);
        }

        /**
         * For choosing settings without the test rows: the first 80% of the training rows (already in a seeded
         * random order) train, the last 20% take the test rows' place.
         */
        Split validation() {
            int n = trainY.length - trainY.length / 5;
            return new Split(name + "/validation", source + "; validation: the last 20% of the training rows",
                    Arrays.copyOf(trainX, n), Arrays.copyOf(trainY, n),
                    Arrays.copyOfRange(trainX, n, trainY.length), Arrays.copyOfRange(trainY, n, trainY.length),
                    classes);
        }
    }

    /** A tabular data set: the Debian package that ships it, the file inside, and how it is read and split. */
    enum Tabular {
        /**
         * UCI Spambase (Hopkins et al., Hewlett-Packard Labs, 1999): 4,601 e-mails, 57 word/character frequencies and
         * capital-run lengths, spam or not. Shipped by kernlab as data/spam.rda. No official split: a seeded 80/20.
         */
        SPAMBASE("spambase", "r-cran-kernlab", "usr/lib/R/site-library/kernlab/data/spam.rda", "type", 4601, 57, 2),
        /**
         * UCI Letter Recognition (Frey and Slate, 1991): 20,000 letter images as 16 integer features, 26 classes.
         * Shipped by mlbench as data/LetterRecognition.rda. The data set's own documented split: the first 16,000
         * rows train, the last 4,000 test.
         */
        LETTER("letter", "r-cran-mlbench", "usr/lib/R/site-library/mlbench/data/LetterRecognition.rda", "lettr",
                20000, 16, 26),
        /**
         * Wisconsin Diagnostic Breast Cancer (Wolberg, Street, Mangasarian, 1995): 569 cases, 30 features of cell
         * nuclei, malignant or benign. Shipped by scikit-learn as breast_cancer.csv. No official split: a seeded
         * 80/20. Tiny: shows where the fixed costs go.
         */
        BREAST_CANCER("breast-cancer", "python3-sklearn",
                "usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv", null, 569, 30, 2);

        final String id;
        final String debianPackage;
        final String file;
        final String labelColumn;
        final int rows;
        final int features;
        final int classes;

        Tabular(String id, String debianPackage, String file, String labelColumn, int rows, int features,
                int classes) {
            this.id = id;
            this.debianPackage = debianPackage;
            this.file = file;
            this.labelColumn = labelColumn;
            this.rows = rows;
            this.features = features;
            this.classes = classes;
        }

        static Tabular of(String id) {
            for (Tabular t : values()) {
                if (t.id.equals(id)) {
                    return t;
                }
            }
            throw new IllegalArgumentException("unknown data set '" + id + "'");
        }

        /** The file: extracted under {@code dir/<package>/}, else installed at {@code /<file>}. */
        Path locate(Path dir) throws IOException {
            for (Path p : List.of(dir.resolve(debianPackage).resolve(file), Path.of("/").resolve(file))) {
                if (Files.isRegularFile(p)) {
                    return p;
                }
            }
            throw new IOException(id + ": neither " + dir.resolve(debianPackage).resolve(file) + " nor /" + file
                    + " exists (bench/vs-mllib.sh extracts Debian's " + debianPackage + " there)");
        }

        Split load(Path dir) throws IOException {
            Path path = locate(dir);
            double[][] x;
            int[] y;
            String[] classes;
            if (file.endsWith(".rda")) {
                RData.Frame frame = RData.readFrame(path);
                List<double[]> cols = new ArrayList<>();
                RData.Factor label = null;
                for (Map.Entry<String, Object> c : frame.columns().entrySet()) {
                    if (c.getKey().equals(labelColumn)) {
                        label = (RData.Factor) c.getValue();
                    } else if (c.getValue() instanceof double[] d) {
                        cols.add(d);
                    } else {
                        throw new IOException(path + ": column " + c.getKey() + " is not numeric");
                    }
                }
                if (label == null) {
                    throw new IOException(path + ": no factor column '" + labelColumn + "'");
                }
                x = new double[frame.rows()][cols.size()];
                y = new int[frame.rows()];
                for (int r = 0; r < frame.rows(); r++) {
                    for (int j = 0; j < cols.size(); j++) {
                        x[r][j] = cols.get(j)[r];
                    }
                    if (label.codes()[r] == 0) {
                        throw new IOException(path + ": row " + (r + 1) + " has no label");
                    }
                    y[r] = label.codes()[r] - 1;
                }
                classes = label.levels();
            } else {
                // scikit-learn's layout: a first line "rows,features,class names...", then features and the label
                List<String> lines = Files.readAllLines(path, StandardCharsets.UTF_8);
                String[] head = lines.get(0).split(",");
                int n = Integer.parseInt(head[0].trim());
                int d = Integer.parseInt(head[1].trim());
                classes = Arrays.copyOfRange(head, 2, head.length);
                x = new double[n][d];
                y = new int[n];
                for (int r = 0; r < n; r++) {
                    String[] v = lines.get(r + 1).split(",");
                    for (int j = 0; j < d; j++) {
                        x[r][j] = Double.parseDouble(v[j]);
                    }
                    y[r] = Integer.parseInt(v[d].trim());
                }
            }
            check(path, x, y, classes);
            String source = "Debian " + debianPackage + ": /" + file;
            if (this == LETTER) { // the documented split: the first 16,000 rows train, the last 4,000 test
                return ordered(id, source + "; split: rows 1-16000 train, 16001-20000 test (the data set's own)",
                        x, y, 16000, classes);
            }
            int[] p = Shuffle.permutation(x.length, SPLIT_SEED);
            double[][] px = new double[x.length][];
            int[] py = new int[x.length];
            for (int i = 0; i < p.length; i++) {
                px[i] = x[p[i]];
                py[i] = y[p[i]];
            }
            int nTrain = x.length - x.length / 5;
            return new Split(id, source + "; split: seeded shuffle (" + SPLIT_SEED + "), first " + nTrain
                    + " train, last " + (x.length - nTrain) + " test",
                    Arrays.copyOf(px, nTrain), Arrays.copyOf(py, nTrain),
                    Arrays.copyOfRange(px, nTrain, x.length), Arrays.copyOfRange(py, nTrain, x.length), classes);
        }

        /** The training rows in a seeded random order (each worker's shard a random sample), the test rows as is. */
        private static Split ordered(String id, String source, double[][] x, int[] y, int nTrain, String[] classes) {
            int[] p = Shuffle.permutation(nTrain, SPLIT_SEED);
            double[][] tx = new double[nTrain][];
            int[] ty = new int[nTrain];
            for (int i = 0; i < nTrain; i++) {
                tx[i] = x[p[i]];
                ty[i] = y[p[i]];
            }
            return new Split(id, source, tx, ty, Arrays.copyOfRange(x, nTrain, x.length),
                    Arrays.copyOfRange(y, nTrain, y.length), classes);
        }

        /** The shape the data set is documented to have: a changed package fails here, not in a fit. */
        private void check(Path path, double[][] x, int[] y, String[] names) throws IOException {
            if (x.length != rows || x[0].length != features || names.length != classes) {
                throw new IOException(path + ": " + x.length + " rows x " + x[0].length + " features, "
                        + names.length + " classes; expected " + rows + " x " + features + ", " + classes);
            }
            for (int r = 0; r < x.length; r++) {
                for (double v : x[r]) {
                    if (!Double.isFinite(v)) {
                        throw new IOException(path + ": row " + (r + 1) + " has a missing or infinite value");
                    }
                }
                if (y[r] < 0 || y[r] >= classes) {
                    throw new IOException(path + ": row " + (r + 1) + " has label " + y[r]);
                }
            }
        }
    }

    /** Counts of each class, e.g. "nonspam 2788, spam 1813". */
    static String classCounts(int[] y, String[] classes) {
        int[] n = new int[classes.length];
        for (int v : y) {
            n[v]++;
        }
        StringBuilder sb = new StringBuilder();
        for (int c = 0; c < classes.length; c++) {
            sb.append(c == 0 ? "" : " ").append(classes[c]).append('=').append(n[c]);
        }
        return sb.toString();
    }
}
