#!/usr/bin/env bash
# Runs every fuzz target with libFuzzer for SECONDS each (default 600), from the seeds
# and the checked-in corpus. Crashes are written to tests/fuzz/crashes/<target>/ — copy
# each into corpus/<target>/ (and fix the bug) so the regression test replays it.
#   bash tests/fuzz/run_fuzzers.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(session_answers_fuzzer frame_fuzzer manager_fuzzer agent_manager_fuzzer)

# Seeds come from the regression binaries (default toolchain)...
./bazelw build "${targets[@]/#/\/\/tests\/fuzz:}" >/dev/null 2>&1 || true
work=$(mktemp -d /tmp/asp-fuzz-XXXXXX)
for t in "${targets[@]}"; do
  ./bazelw run //tests/fuzz:"$t" -- --write_seeds="$work/$t" >/dev/null 2>&1
done
# ...the fuzzers from the fuzz toolchain (clang, libFuzzer, ASan, UBSan).
./bazelw build --config=fuzz "${targets[@]/#/\/\/tests\/fuzz:}" 2>&1 | grep -E "^(ERROR|FAILED)" && exit 1
bin=$(./bazelw info --config=fuzz bazel-bin 2>/dev/null)

status=0
for t in "${targets[@]}"; do
  mkdir -p "tests/fuzz/crashes/$t"
  echo "== $t: ${seconds}s"
  if ! "$bin/tests/fuzz/$t" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
       -rss_limit_mb=2048 -artifact_prefix="tests/fuzz/crashes/$t/" \
       "$work/$t" "tests/fuzz/corpus/$t" > "$work/$t.log" 2>&1; then
    status=1
    echo "   CRASH or LEAK: see $work/$t.log and tests/fuzz/crashes/$t/"
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb|cov:" "$work/$t.log" | tail -3 | sed 's/^/   /'
done
echo "logs and corpora: $work"
exit $status
