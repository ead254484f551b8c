#!/usr/bin/env bash
# .ci/check_format.sh [FILE...]  —  fails, listing them, when C or C++ files of the project
# are not formatted as .clang-format says. Checks the given files, or else every .c, .cc
# and .h file under asp/, bench/, tests/ and examples/ (not generated code, not
# third_party/, not Bazel's output links). Uses Debian's clang-format-14, which ./bazelw
# installs; the version is pinned because each release formats a little differently.
#
# Exit codes: 0 all formatted, 1 some are not (listed on stderr), 2 cannot check.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

formatter=clang-format-14
if ! command -v "$formatter" >/dev/null 2>&1; then
  echo "check_format: $formatter is missing: run ./bazelw once, or apt-get install clang-format-14" >&2
  exit 2
fi
# A broken .clang-format would otherwise flag every file.
if ! "$formatter" --style=file --dump-config asp/base/clock.h >/dev/null; then
  echo "check_format: $formatter cannot read .clang-format" >&2
  exit 2
fi

if (($#)); then
  files=("$@")
else
  mapfile -t files < <(
    find asp bench tests examples \( -name 'bazel-*' -o -name third_party \) -prune -o \
      -type f \( -name '*.c' -o -name '*.cc' -o -name '*.h' \) \
      ! -name '*.pb.h' ! -name '*.pb.cc' -print | LC_ALL=C sort)
fi

off=()
for file in "${files[@]}"; do
  "$formatter" --style=file --dry-run --Werror "$file" >/dev/null 2>&1 || off+=("$file")
done

if ((${#off[@]})); then
  echo "check_format: ${#off[@]} of ${#files[@]} files are not formatted as .clang-format says:" >&2
  printf '  %s\n' "${off[@]}" >&2
  echo "check_format: see why with '$formatter FILE | diff FILE -'; fix with '$formatter -i FILE'" >&2
  exit 1
fi
echo "check_format: ${#files[@]} files, all formatted"
