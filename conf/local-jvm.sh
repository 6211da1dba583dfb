# Sourced by submit.sh and the benchmarks: the JVM options and native settings of the job's local JVMs that
# spark-submit does not give.

# The Java 17 --add-opens list (conf/java17-opens.properties), one word per line.
java17_opens() {
  sed -n 's/^jvm\.opens=//p' "$(dirname "${BASH_SOURCE[0]}")/java17-opens.properties" | tr ' ' '\n'
}

# JIT of a JVM that has CORES cores to itself (empty: unknown). On a few cores (<= 4) C2's compiler threads compete
# with the training threads for them during the first epochs; the C1 compiler alone warms up in seconds, and the
# full tiered JIT's warm epochs are no faster: the hot work is native (measurements: docs/BENCHMARKS.md, "JIT").
# SPARKDROPOUT_JIT=full or c1 chooses.
jit_options_for_cores() {
  case "${SPARKDROPOUT_JIT:-auto}" in
    full) echo -Dsparkdropout.jit=full ;; # also keeps C2 for the job's own classes (model.JitChoice)
    c1) echo -XX:TieredStopAtLevel=1 ;;
    auto) if [ -n "${1:-}" ] && [ "$1" -le 4 ]; then echo -XX:TieredStopAtLevel=1; fi ;;
  esac
  return 0
}

# JIT of a JVM on this machine (local mode: driver and executors in one; a client-mode driver)
local_jit_options() {
  jit_options_for_cores "$(nproc)"
}

# Garbage collection of a local-mode JVM: the job's heap holds little for long (the shards and the replicas live in
# native memory), so a young generation of 48 MB collected by the serial collector keeps the resident size near what
# is live, where G1 lets the heap grow to ~500 MB, mostly garbage, at the same speed (docs/BENCHMARKS.md, "Memory").
# SPARKDROPOUT_GC=jvm leaves the collector and its sizing to the JVM.
local_gc_options() {
  [ "${SPARKDROPOUT_GC:-serial}" = jvm ] || echo -XX:+UseSerialGC -XX:MaxNewSize=48m
}

# ND4J's bundled OpenBLAS (0.3.19) does not recognise recent CPUs and falls back to slow generic kernels; pick the
# best kernel set this CPU supports unless the environment already chose one (docs/BENCHMARKS.md, "Machine"); the
# same rule as HostBlas.KernelChoice.bestFor, which makes this choice in JVMs submit.sh does not start (executors).
# Exports OPENBLAS_CORETYPE.
pick_openblas_coretype() {
  if [ -z "${OPENBLAS_CORETYPE:-}" ] && [ -r /proc/cpuinfo ]; then
    local flags f
    flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
    local skylakex=1 haswell=1
    for f in avx512f avx512cd avx512bw avx512dq avx512vl; do [[ "$flags" == *" $f "* ]] || skylakex=0; done
    for f in avx2 fma; do [[ "$flags" == *" $f "* ]] || haswell=0; done
    if [ "$skylakex" = 1 ]; then
      export OPENBLAS_CORETYPE=SkylakeX
    elif [ "$haswell" = 1 ]; then
      export OPENBLAS_CORETYPE=Haswell
    fi
  fi
  return 0
}
