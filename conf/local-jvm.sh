# Sourced by submit.sh and bench/speed.sh: the JVM options of the job's JVMs that spark-submit does not give.

# The Java 17 --add-opens list (conf/java17-opens.properties), one word per line.
java17_opens() {
  sed -n 's/^jvm\.opens=//p' "$(dirname "${BASH_SOURCE[0]}")/java17-opens.properties" | tr ' ' '\n'
}

# JIT of a local-mode JVM (driver and executors in one): on a small machine (<= 4 cores) C2's compiler threads
# compete with the training threads for the cores during the first epochs; the C1 compiler alone warms up in
# seconds. Measured on 2 cores, the README's 10-epoch job: 29-35 s wall with C1 only against 35-43 s with the full
# tiered JIT, whose warm epochs are no faster. SPARKDROPOUT_JIT=full or c1 chooses.
local_jit_options() {
  if [ "${SPARKDROPOUT_JIT:-auto}" = c1 ] || { [ "${SPARKDROPOUT_JIT:-auto}" = auto ] && [ "$(nproc)" -le 4 ]; }; then
    echo -XX:TieredStopAtLevel=1
  fi
}
