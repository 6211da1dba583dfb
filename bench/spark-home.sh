#!/usr/bin/env bash
# bench/spark-home.sh [DEST]   (default: target/spark-home)
#
# Assembles a Spark installation from Maven Central, for the cluster tests and for trying spark-submit without a
# Spark download: DEST/jars holds the jars of the pinned Spark (spark.version / scala.binary / hadoop.version of
# pom.xml, or of its spark4 profile under mvn -P spark4; resolved by bench/spark-home/pom.xml, YARN support
# included), and DEST/bin/spark-submit and DEST/bin/spark-class launch them exactly as the distribution's scripts
# do: org.apache.spark.launcher.Main builds the java command (classpath, spark-defaults.conf, Java 17 --add-opens)
# and the script runs it.
# Rebuilt only when pom.xml or bench/spark-home/pom.xml changed since the last assembly.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$here/target/spark-home}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)

# The versions: those Maven passes (BUILD_SPARK_VERSION, BUILD_SCALA_BINARY, BUILD_HADOOP_VERSION: the build's,
# -P spark4 included), else the default build's in pom.xml
prop() { sed -n "s|.*<$1>\(.*\)</$1>.*|\1|p" "$here/pom.xml" | head -1; }
spark_version=${BUILD_SPARK_VERSION:-$(prop spark.version)}
scala_binary=${BUILD_SCALA_BINARY:-$(prop scala.binary)}
hadoop_version=${BUILD_HADOOP_VERSION:-$(prop hadoop.version)}
[ -n "$spark_version" ] && [ -n "$scala_binary" ] && [ -n "$hadoop_version" ] \
  || { echo "spark-home.sh: cannot read the Spark/Scala/Hadoop versions from pom.xml" >&2; exit 2; }

stamp=$dest/.assembled
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$spark_version $scala_binary $hadoop_version" ] \
   && [ -z "$(find "$here/pom.xml" "$here/bench/spark-home/pom.xml" -newer "$stamp" -print -quit)" ]; then
  exit 0
fi
echo "spark-home.sh: assembling Spark $spark_version (Scala $scala_binary, Hadoop $hadoop_version) in $dest" >&2
rm -rf "$dest/jars" "$dest/bin" "$stamp"
mvn -q -B -f "$here/bench/spark-home/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
  -DoutputDirectory="$dest/jars" -Dspark.version="$spark_version" -Dscala.binary="$scala_binary" \
  -Dhadoop.version="$hadoop_version" >&2
mkdir -p "$dest/bin" "$dest/conf"
echo "Spark $spark_version built for Hadoop $hadoop_version (assembled from Maven Central by bench/spark-home.sh)" \
  > "$dest/RELEASE"

cat > "$dest/bin/load-spark-env.sh" <<EOF
# Sourced by spark-class: what the distribution's load-spark-env.sh sets up.
if [ -z "\${SPARK_ENV_LOADED:-}" ]; then
  export SPARK_ENV_LOADED=1
  export SPARK_CONF_DIR="\${SPARK_CONF_DIR:-\$SPARK_HOME/conf}"
  if [ -f "\$SPARK_CONF_DIR/spark-env.sh" ]; then
    set -a; . "\$SPARK_CONF_DIR/spark-env.sh"; set +a
  fi
fi
export SPARK_SCALA_VERSION=\${SPARK_SCALA_VERSION:-$scala_binary}
EOF

cat > "$dest/bin/spark-class" <<'EOF'
#!/usr/bin/env bash
# spark-class CLASS [ARGS]: asks Spark's launcher (org.apache.spark.launcher.Main) for the java command that runs
# CLASS, then runs it. The launcher prints its messages, a NUL line, then the command's words NUL-separated, then
# its own exit code.
export SPARK_HOME=${SPARK_HOME:-$(cd "$(dirname "$0")/.." && pwd)}
. "$SPARK_HOME/bin/load-spark-env.sh"
runner=${JAVA_HOME:+$JAVA_HOME/bin/}java
build_command() {
  "$runner" -Xmx128m ${SPARK_LAUNCHER_OPTS:-} -cp "$SPARK_HOME/jars/*" org.apache.spark.launcher.Main "$@"
  printf "%d\0" $?
}
cmd=()
delim=$'\n'
started=false
while IFS= read -d "$delim" -r arg; do
  if $started; then
    cmd+=("$arg")
  elif [ "$arg" == $'\0' ]; then
    delim=''
    started=true
  elif [ -n "$arg" ]; then
    echo "$arg"
  fi
done < <(build_command "$@")
last=$((${#cmd[@]} - 1))
code=${cmd[$last]:-1}
if ! [[ $code =~ ^[0-9]+$ ]]; then
  echo "${cmd[@]}" | head -n-1 >&2
  exit 1
fi
[ "$code" = 0 ] || exit "$code"
exec "${cmd[@]:0:$last}"
EOF

cat > "$dest/bin/spark-submit" <<'EOF'
#!/usr/bin/env bash
export SPARK_HOME=${SPARK_HOME:-$(cd "$(dirname "$0")/.." && pwd)}
exec "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.SparkSubmit "$@"
EOF
chmod +x "$dest/bin/spark-class" "$dest/bin/spark-submit"
echo "$spark_version $scala_binary $hadoop_version" > "$stamp"
echo "spark-home.sh: $(ls "$dest/jars" | wc -l) jars, $(du -sh "$dest/jars" | cut -f1); SPARK_HOME=$dest" >&2
