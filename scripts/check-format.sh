#!/usr/bin/env bash
# Lists the C++ files that do not follow .clang-format, and fails if any.
#   scripts/check-format.sh [CLANG_FORMAT]     (default: clang-format)
# Fix them with: clang-format -i FILE…
set -euo pipefail
cd "$(dirname "$0")/.."
tool=${1:-clang-format}
if ! command -v "$tool" >/dev/null 2>&1; then
  echo "check-format: $tool is not installed (scripts/install-deps.sh installs it)" >&2
  exit 2
fi
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h')
else  # a source tree without git: every C++ file outside build trees
  mapfile -t files < <(find . -path ./build -prune -o -path './build-*' -prune -o \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' \) -print | sed 's|^\./||' | sort)
fi
bad=()
for f in "${files[@]}"; do
  if ! "$tool" --style=file --dry-run -Werror "$f" >/dev/null 2>&1; then bad+=("$f"); fi
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "check-format: ${#bad[@]} of ${#files[@]} files do not follow .clang-format ($("$tool" --version)):"
  printf '  %s\n' "${bad[@]}"
  echo "fix with: clang-format -i ${bad[*]:0:3}…"
  exit 1
fi
echo "check-format: all ${#files[@]} files follow .clang-format"
