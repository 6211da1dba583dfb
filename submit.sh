#!/usr/bin/env bash
# submit.sh [spark-submit options] COMMAND [command options]
#
# Runs the job's main class (io.github.sparkdropout.cli.Main) through spark-submit when Spark is installed
# (SPARK_HOME, or spark-submit on the PATH), else in an embedded JVM with Spark from the Maven build.
# Spark options (--master, --conf, --executor-memory, ...) pass through; the default master is local[*].
# It builds what it needs with Maven, for the Spark line it runs on (3.5, or 4 with -P spark4: the installation's
# version decides, else SPARKDROPOUT_SPARK, else the last build's line), and, for `train` with the default --data,
# fetches the data.
# Runs from the project directory: relative paths in options are relative to it.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"
main_class=io.github.sparkdropout.cli.Main
version=$(sed -n 's|^  <version>\(.*\)</version>|\1|p' pom.xml | head -1)
app_jar=target/spark-dropout-mlp-$version-app.jar

die() { echo "submit.sh: $*" >&2; exit 2; }

# ---- split [spark options] COMMAND [command options]
spark_opts=()
master=""
deploy_mode=client
while [ $# -gt 0 ]; do
  case "$1" in
    --verbose|-v|--supervise) spark_opts+=("$1"); shift ;;
    --help|-h) set -- help; break ;;
    --*=*) spark_opts+=("$1")
           case "$1" in --master=*) master=${1#--master=} ;; --deploy-mode=*) deploy_mode=${1#--deploy-mode=} ;; esac
           shift ;;
    -*) [ $# -ge 2 ] || die "spark option $1 needs a value"
        case "$1" in --master) master=$2 ;; --deploy-mode) deploy_mode=$2 ;; esac
        spark_opts+=("$1" "$2"); shift 2 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || set -- help
command=$1

# ---- Spark: installed, or embedded from the Maven build
spark_submit=""
if [ -n "${SPARK_HOME:-}" ] && [ -x "$SPARK_HOME/bin/spark-submit" ]; then
  spark_submit=$SPARK_HOME/bin/spark-submit
elif command -v spark-submit >/dev/null 2>&1; then
  spark_submit=$(command -v spark-submit)
fi
[ -n "$master" ] || master="local[*]"

# ---- the Spark line to build for (README: "Spark versions"): the installation's, named by its spark-core jar (or
# by spark-submit --version); without an installation SPARKDROPOUT_SPARK (3.5 or 4), else the line target/ was
# last built for (mvn -P spark4 ... included), else 3.5
wanted=${SPARKDROPOUT_SPARK:-}
case "$wanted" in ''|3.5|4) ;; *) die "SPARKDROPOUT_SPARK=$wanted: the Spark line is 3.5 or 4" ;; esac
if [ -n "$spark_submit" ]; then
  spark_home=${SPARK_HOME:-$(dirname "$(dirname "$(readlink -f "$spark_submit")")")}
  installed=$(find "$spark_home/jars" -maxdepth 1 -name 'spark-core_2.1[0-9]-*.jar' 2>/dev/null | head -1 \
    | sed -n 's|.*/spark-core_2\.1[0-9]-\([0-9][0-9.]*[0-9]\).*\.jar$|\1|p')
  [ -n "$installed" ] || installed=$("$spark_submit" --version 2>&1 | grep -o 'version [0-9][0-9.]*[0-9]' | head -1 \
    | sed 's/version //' || true)
  case "$installed" in
    3.5.*) line=3.5 ;;
    4.*) line=4 ;;
    '') die "cannot tell which Spark version $spark_submit is (no jars/spark-core_*.jar in $spark_home)" ;;
    *) die "Spark $installed at $spark_home: this job runs on Spark 3.5 and 4.x (README: Spark versions)" ;;
  esac
  [ -z "$wanted" ] || [ "$wanted" = "$line" ] \
    || die "SPARKDROPOUT_SPARK=$wanted, but the Spark installation at $spark_home is $installed (it decides the line: unset SPARKDROPOUT_SPARK)"
else
  case "$(cat target/spark-line 2>/dev/null)" in 4.*) line=${wanted:-4} ;; *) line=${wanted:-3.5} ;; esac
fi
profile=()
[ "$line" = 4 ] && profile=(-P spark4)

# ---- build (only when the job's sources changed since the last build, by this script or by Maven itself)
fresh() { # built for this Spark line, and any of these files is newer than every source
  local f
  case "$(cat target/spark-line 2>/dev/null)" in "$line".*) ;; *) return 1 ;; esac
  for f in "$@"; do
    [ -e "$f" ] && [ -z "$(find pom.xml src/main conf -newer "$f" -print -quit)" ] && return 0
  done
  return 1
}
build() { # maven goal, stamp file
  command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is needed to build the job; install Maven 3.8+ and Java 17+"
  echo "submit.sh: building ($1${profile[*]:+ ${profile[*]}}: Spark $line) ..." >&2
  mvn -q -B -DskipTests ${profile[@]+"${profile[@]}"} "$1" >&2 || die "the Maven build failed (see above)"
  touch "$2"
}
need_jar=false
[ -n "$spark_submit" ] && need_jar=true
case "$master" in local*) ;; *) need_jar=true ;; esac
if $need_jar; then
  fresh "$app_jar" target/.stamp-package || build package target/.stamp-package
else
  fresh target/classes/io/github/sparkdropout/cli/Main.class target/.stamp-compile "$app_jar" target/.stamp-package \
    || build compile target/.stamp-compile
fi

# ---- data: fetch the default data set on first use
if [ "$command" = train ]; then
  custom_data=false # a resumed run reads the data it recorded
  for a in "${@:2}"; do case "$a" in --data|--data=*|--resume|--resume=*) custom_data=true ;; esac; done
  if ! $custom_data && [ ! -f data/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    bash data/fetch.sh >&2 || die "could not obtain Fashion-MNIST (see data/README.md)"
  fi
fi

# ND4J's bundled OpenBLAS kernels (conf/local-jvm.sh); applies to local mode, where the executors are this JVM
. conf/local-jvm.sh
pick_openblas_coretype

# JIT and garbage collection of local mode, where the executors are this JVM (conf/local-jvm.sh)
local_opts=()
case "${SPARKDROPOUT_GC:-serial}" in serial|jvm) ;; *) die "SPARKDROPOUT_GC=$SPARKDROPOUT_GC: serial (the default) or jvm" ;; esac
case "${SPARKDROPOUT_JIT:-auto}" in auto|c1|full) ;; *) die "SPARKDROPOUT_JIT=$SPARKDROPOUT_JIT: auto (the default), c1 or full" ;; esac
case "${SPARKDROPOUT_CDS_WAIT:-120}" in ''|*[!0-9]*) die "SPARKDROPOUT_CDS_WAIT=$SPARKDROPOUT_CDS_WAIT: whole seconds" ;; esac
case "$master" in local*)
  gc=$(local_gc_options)
  # the user chose a collector (-XX:+UseG1GC, -XX:+UseParallelGC, ...): theirs alone
  collector='[[:space:]=]-XX:\+Use[A-Za-z0-9]*GC([[:space:]]|$)'
  [[ " ${spark_opts[*]-} " =~ $collector ]] && gc=""
  read -r -a local_opts <<< "$(local_jit_options) $gc" ;;
*) [ "$deploy_mode" = client ] && read -r -a local_opts <<< "$(local_jit_options)" ;; # a driver on this machine
esac

# ---- settings given to Spark: by the user (--conf KEY=V, or the option that sets KEY), else by the installation
spark_defaults=/nonexistent
if [ -n "$spark_submit" ]; then
  spark_defaults=${SPARK_CONF_DIR:-${SPARK_HOME:-$(dirname "$(dirname "$(readlink -f "$spark_submit")")")}/conf}
  spark_defaults=$spark_defaults/spark-defaults.conf
fi
given() { # KEY [OPTION]: where the user set KEY in spark_opts, print "i:value" (i: the index of the value)
  local key=$1 option=${2:-} i v
  for ((i = 0; i < ${#spark_opts[@]}; i++)); do
    v=${spark_opts[$i]}
    if [[ $v == "--conf=$key="* ]]; then echo "$i:${v#--conf=$key=}"; return 0; fi
    if [[ $v == --conf && ${spark_opts[$((i + 1))]:-} == "$key="* ]]; then
      echo "$((i + 1)):${spark_opts[$((i + 1))]#$key=}"; return 0
    fi
    if [ -n "$option" ] && [[ $v == "$option="* ]]; then echo "$i:${v#$option=}"; return 0; fi
    if [ -n "$option" ] && [ "$v" = "$option" ]; then echo "$((i + 1)):${spark_opts[$((i + 1))]:-}"; return 0; fi
  done
  return 1
}
setting() { # KEY [OPTION]: the value in force for KEY: given by the user, else spark-defaults.conf's, else empty
  local g
  if g=$(given "$@"); then echo "${g#*:}"; return; fi
  [ -f "$spark_defaults" ] || return 0
  sed -n "s/^[[:space:]]*${1//./\\.}[[:space:]=][[:space:]]*//p" "$spark_defaults" | tail -1
}
prepend_java_options() { # KEY OPTION WORDS: WORDS go before the JVM options in force for KEY (or OPTION)
  local g i
  if g=$(given "$1" "$2"); then
    i=${g%%:*}
    case "${spark_opts[$i]}" in
      "$1="*) spark_opts[$i]="$1=$3 ${g#*:}" ;;
      "--conf=$1="*) spark_opts[$i]="--conf=$1=$3 ${g#*:}" ;;
      *) if [ -n "$2" ] && [[ ${spark_opts[$i]} == "$2="* ]]; then spark_opts[$i]="$2=$3 ${g#*:}"
         else spark_opts[$i]="$3 ${g#*:}"; fi ;;
    esac
  else
    spark_opts+=(--conf "$1=$3${3:+ }$(setting "$1")")
  fi
}
mb() { # a Spark memory size (2g, 640m, 1024 = MiB) in MiB
  local v=${1,,}
  case "$v" in
    *t) echo $(( ${v%t} * 1024 * 1024 )) ;; *g) echo $(( ${v%g} * 1024 )) ;; *m) echo "${v%m}" ;;
    *k) echo $(( ${v%k} / 1024 )) ;; *) echo "$v" ;;
  esac
}

# ---- on a cluster: memory beyond the heap for ND4J (conf/cluster.conf), and Java 17 opens a worker omits
case "$master" in local*) ;; *)
  while IFS= read -r line; do
    case "$line" in ''|'#'*) continue ;; esac
    key=${line%%=*}
    [ -n "$(setting "$key")" ] || spark_opts+=(--conf "$line")
  done < conf/cluster.conf
  if [ "${SPARKDROPOUT_GPU:-0}" = 1 ]; then # GPU executors (a CUDA build): conf/gpu.conf, and the discovery script
    while IFS= read -r line; do
      case "$line" in ''|'#'*) continue ;; esac
      [ -n "$(setting "${line%%=*}")" ] || spark_opts+=(--conf "$line")
    done < conf/gpu.conf
    if g=$(given spark.files --files); then
      spark_opts[${g%%:*}]="${spark_opts[${g%%:*}]},$here/conf/gpu-discovery.sh"
    else
      files=$(setting spark.files)
      spark_opts+=(--files "${files:+$files,}$here/conf/gpu-discovery.sh")
    fi
  fi
  # ND4J checks the process's resident memory against JavaCPP's maxphysicalbytes before it allocates: at the
  # container's size it fails with "Physical memory usage is too high" instead of being killed by YARN
  executor_mb=$(mb "$(setting spark.executor.memory --executor-memory)")
  overhead_mb=$(mb "$(setting spark.executor.memoryOverhead)")
  # the JIT by the cores an executor has (conf/local-jvm.sh): YARN's and Kubernetes' have 1 unless told, a
  # standalone executor takes all of a worker's cores (unknown here)
  executor_cores=$(setting spark.executor.cores --executor-cores)
  case "$master" in spark://*) ;; *) executor_cores=${executor_cores:-1} ;; esac
  executor_jit=$(jit_options_for_cores "$executor_cores")
  prepend_java_options spark.executor.extraJavaOptions "" "${executor_jit:+$executor_jit }\
-Dorg.bytedeco.javacpp.maxbytes=${overhead_mb}m \
-Dorg.bytedeco.javacpp.maxphysicalbytes=$(( ${executor_mb:-1024} + overhead_mb - 32 ))m"
  if [ "$deploy_mode" = cluster ]; then # the driver runs on a cluster node, with spark.driver.cores (1 unless told)
    driver_cores=$(setting spark.driver.cores --driver-cores)
    driver_jit=$(jit_options_for_cores "${driver_cores:-1}")
    [ -z "$driver_jit" ] || prepend_java_options spark.driver.extraJavaOptions --driver-java-options "$driver_jit"
  fi
  # a standalone worker starts a cluster-mode driver's JVM without the --add-opens spark-submit gives a client-mode
  # driver (Spark 3.5)
  if [ "$deploy_mode" = cluster ]; then
    case "$master" in spark://*)
      prepend_java_options spark.driver.extraJavaOptions --driver-java-options "$(java17_opens | tr '\n' ' ')" ;;
    esac
  fi ;;
esac

# the driver's log file (whole traces; the terminal gets one line per problem), created only if something is logged
mkdir -p logs
log_file=$here/logs/$command-$(date +%Y%m%d-%H%M%S)-$$.log

git_commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then git_commit="$git_commit-dirty"; fi
log_conf=$here/conf/log4j2.properties

if [ -n "$spark_submit" ]; then
  extra=(--conf "spark.sparkdropout.gitCommit=$git_commit")
  case " ${spark_opts[*]-} " in *" --master"*) ;; *) extra+=(--master "$master") ;; esac
  if [ "$deploy_mode" = client ]; then
    prepend_java_options spark.driver.extraJavaOptions --driver-java-options \
      "-Dlog4j2.configurationFile=file:$log_conf -Dsparkdropout.logFile=$log_file${local_opts[*]:+ ${local_opts[*]}}"
    case "$master" in local*)
      case " ${spark_opts[*]-} " in *" --driver-memory"*) ;; *) extra+=(--driver-memory 6g) ;; esac ;;
    esac
  else
    # the driver runs in the cluster; this JVM only submits and follows the application: show its state
    export SPARK_SUBMIT_OPTS="${SPARK_SUBMIT_OPTS:-} -Dlog4j2.configurationFile=file:$log_conf -Dsparkdropout.submitter=info"
  fi
  case "$master/$deploy_mode" in spark://*/cluster) ;; *)
    exec "$spark_submit" --class "$main_class" "${extra[@]}" ${spark_opts[@]+"${spark_opts[@]}"} "$app_jar" "$@" ;;
  esac
  # spark-submit returns once the driver is accepted, and exits 0 even when the driver fails: wait for the driver
  # and turn its final state into this script's exit code.
  case " ${spark_opts[*]-} " in *"spark.standalone.submit.waitAppCompletion"*) ;; *)
    extra+=(--conf spark.standalone.submit.waitAppCompletion=true) ;; esac
  states=$(mktemp)
  trap 'rm -f "$states"' EXIT
  set +e -o pipefail
  { "$spark_submit" --class "$main_class" "${extra[@]}" ${spark_opts[@]+"${spark_opts[@]}"} "$app_jar" "$@" \
      2>&1 1>&3 3>&- | tee "$states" >&2; } 3>&1
  code=$?
  set -e
  state=$(grep -o 'State of driver [^ ]* is [A-Z]*' "$states" | tail -1 || true)
  case "$state" in *FAILED|*ERROR|*KILLED)
    echo "submit.sh: ${state#State of }; the driver's log is in its worker's work directory (driver-*/stderr)" >&2
    exit 1 ;;
  esac
  exit "$code"
fi

# Embedded: translate the spark-submit options a driver JVM understands into system properties.
[ "$deploy_mode" = client ] || die "--deploy-mode $deploy_mode needs a Spark installation (set SPARK_HOME)"
java_bin=${JAVA_HOME:+$JAVA_HOME/bin/}java
jvm=(-Xmx6g ${local_opts[@]+"${local_opts[@]}"} "-Dlog4j2.configurationFile=file:$log_conf" "-Dspark.master=$master"
     "-Dsparkdropout.logFile=$log_file"
     "-Dspark.sparkdropout.gitCommit=$git_commit")
set -- "$@"
i=0
while [ $i -lt ${#spark_opts[@]} ]; do
  opt=${spark_opts[$i]}; val=""
  case "$opt" in
    --*=*) val=${opt#*=}; opt=${opt%%=*} ;;
    --verbose|-v|--supervise) i=$((i + 1)); continue ;;
    *) val=${spark_opts[$((i + 1))]}; i=$((i + 1)) ;;
  esac
  i=$((i + 1))
  case "$opt" in
    --master|--deploy-mode) ;;
    --conf) [[ "$val" == *=* ]] || die "--conf needs key=value, got '$val'"; jvm+=("-D$val") ;;
    --driver-memory) jvm+=("-Xmx$val") ;;
    --driver-java-options) read -r -a more <<<"$val"; jvm+=("${more[@]}") ;;
    --name) jvm+=("-Dspark.app.name=$val") ;;
    --executor-memory) jvm+=("-Dspark.executor.memory=$val") ;;
    --executor-cores) jvm+=("-Dspark.executor.cores=$val") ;;
    --total-executor-cores) jvm+=("-Dspark.cores.max=$val") ;;
    --num-executors) jvm+=("-Dspark.executor.instances=$val") ;;
    --jars) jvm+=("-Dspark.jars=$val") ;;
    *) die "spark option $opt needs a Spark installation (set SPARK_HOME or put spark-submit on the PATH)" ;;
  esac
done
mapfile -t opens < <(java17_opens)

# Class-data sharing (AppCDS) in local mode: the JVM maps the classes of Spark, DL4J and the job from an archive
# instead of loading and verifying them at every start, which takes much of a short run's time.
# The archive is made once per build by a short training run of its own (about 20 s), from a jar of the job's
# classes (the JVM archives classes from jars only). An archive that does not match (another JVM, other memory
# settings) is ignored by the JVM, silently. SPARKDROPOUT_CDS=off goes without.
cds=target/cds
# fresh: made after the classes it holds were last compiled (the jar is packed first, so a compile while the
# archive is being made counts as newer)
newer_than() { [ -f "$1" ] && [ -z "$(find target/classes target/classpath.txt -newer "$1" -print -quit)" ]; }
cds_fresh() { [ -f $cds/app.jsa ] && newer_than $cds/classes.jar; }
cds_ready() {
  cds_fresh && return 0
  newer_than $cds/failed && return 1 # this build's archive failed once: not again on every run
  [ "$command" = train ] || return 1 # made by a training run: not on the way to --help, sql or plot
  [ -f data/fashion-mnist/train-images-idx3-ubyte.gz ] || return 1 # made from a run on the default data only
  # one maker at a time; the lock's descriptor is the subshell's own, never the job's. A run that finds another one
  # preparing says so and waits a bounded time (the maker itself is bounded too), then goes without the archive.
  # SPARKDROPOUT_CDS_WAIT (seconds, default 120) exists for tests and very slow machines.
  (
    if ! flock -n 9; then
      echo "submit.sh: waiting for another submit.sh to finish preparing class-data sharing (target/.cds.lock) ..." >&2
      flock -w "${SPARKDROPOUT_CDS_WAIT:-120}" 9 || {
        echo "submit.sh: class-data sharing still being prepared by another submit.sh; running without it" >&2
        exit 1
      }
    fi
    cds_fresh || cds_make
  ) 9>target/.cds.lock
}
cds_make() {
  echo "submit.sh: preparing class-data sharing for this build (once, about 20 s) ..." >&2
  rm -rf $cds && mkdir -p $cds/run || return 1
  "${JAVA_HOME:+$JAVA_HOME/bin/}jar" cf $cds/classes.jar -C target/classes . || { touch $cds/failed; return 1; }
  # bounded: a maker that never ends would hold the lock for every later run (its run takes ~20 s); in the
  # foreground, so a Ctrl-C of this script reaches it
  if timeout --foreground -k 5 240 "$java_bin" "${opens[@]}" -Xmx6g ${local_opts[@]+"${local_opts[@]}"} -XX:ArchiveClassesAtExit=$cds/run/app.jsa \
       "-Dlog4j2.configurationFile=file:$log_conf" -Dspark.master="local[2]" "-Dsparkdropout.logFile=$cds/run/job.log" \
       -cp "$(cat target/classpath.txt):$cds/classes.jar" "$main_class" train --epochs 1 --train-limit 1024 \
       --test-limit 512 --data data/fashion-mnist --metrics $cds/run/metrics >$cds/dump.log 2>&1 \
     && [ -s $cds/run/app.jsa ]; then
    mv $cds/run/app.jsa $cds/app.jsa && rm -rf $cds/run
  else
    echo "submit.sh: class-data sharing not prepared (see $cds/dump.log); running without it" >&2
    touch $cds/failed
    return 1
  fi
}
case "$master" in
  local*)
    cp="target/classes:$(cat target/classpath.txt)"
    if [ "${SPARKDROPOUT_CDS:-on}" != off ] && cds_ready; then
      cp="$(cat target/classpath.txt):$cds/classes.jar"
      jvm+=(-XX:SharedArchiveFile=$cds/app.jsa -Xlog:cds=off -Xlog:cds+dynamic=off)
    fi ;;
  *) cp="$app_jar:$(cat target/classpath.txt)"; jvm+=("-Dspark.jars=$here/$app_jar") ;;  # executors need the job
esac
exec "$java_bin" "${opens[@]}" "${jvm[@]}" -cp "$cp" "$main_class" "$@"
