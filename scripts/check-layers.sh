#!/usr/bin/env bash
# The layer rule of DESIGN.md ("Layout"): a folder of src/ may include
# headers of its own layer and of the layers below it, never above.
# Run by `make test` (scripts/run-tests.sh); exits 1 on any include that
# goes up the order and is not in the allow-list below, or on an allow-list
# entry that no longer matches (so the list only ever shrinks).
# Usage: scripts/check-layers.sh [SRC_DIR]   (default: the tree's src/)
set -uo pipefail
cd "$(dirname "$0")/.."
SRC=${1:-src}

# Bottom up, as in DESIGN.md; folders on one line share a layer.
LAYERS=(
  "util"
  "ipc net config sandbox"
  "tls dns auth state verdict"
  "smtp policy scan content"
  "queue quarantine"
  "ctl"
  "master"
)

# Known upward includes still to be removed: "including-file:header  # why".
# Empty since issue 10; keep it so (a new upward include is a design bug:
# pass a callback or move the declaration down instead).
ALLOW=(
)

declare -A rank
for i in "${!LAYERS[@]}"; do
  for f in ${LAYERS[$i]}; do rank[$f]=$i; done
done

declare -A used
allowed() {
  local entry
  for entry in "${ALLOW[@]}"; do
    if [[ "${entry%%[[:space:]]*}" == "$1" ]]; then
      used[$1]=1
      return 0
    fi
  done
  return 1
}

status=0
# One line per include: "src/Y/name.c header"; plain bash from here on
# (no process per line: the tree has hundreds of includes).
while read -r file header; do
  from=${file#src/}; from=${from%%/*}
  to=${header%%/*}
  [[ "$header" == */* ]] || continue        # a header of the same folder by its bare name
  [[ -n "${rank[$from]:-}" ]] || continue   # src/main.c: on top of everything
  if [[ -z "${rank[$to]:-}" ]]; then
    echo "check-layers: $file includes $header: folder '$to' is not in the layer list (scripts/check-layers.sh)"
    status=1
  elif (( rank[$to] > rank[$from] )) && ! allowed "$file:$header"; then
    echo "check-layers: $file includes $header: $to/ is above $from/ in the layer order"
    status=1
  fi
done < <(grep -rH '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$SRC" |
         sed -E "s|^${SRC%/}/([^:]*):[[:space:]]*#[[:space:]]*include[[:space:]]*\"([^\"]+)\".*|src/\1 \2|")

for entry in "${ALLOW[@]}"; do
  key=${entry%%[[:space:]]*}
  if [[ -z "${used[$key]:-}" ]]; then
    echo "check-layers: allow-list entry '$key' matches nothing any more: remove it from scripts/check-layers.sh"
    status=1
  fi
done

if (( status != 0 )); then
  echo "check-layers: FAILED: move the declaration down, or pass a callback from the layer above"
else
  echo "check-layers: ok"
fi
exit $status
