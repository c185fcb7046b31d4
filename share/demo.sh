#!/usr/bin/env bash
# make demo: the main job end to end on the built-in Theta Terminal simulator.
# Starts spx-sim on a free loopback port, processes three days (one an early close), shows the
# status, the sealed files with their checksums, reads one back, and stops the simulator.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/bin:$PWD/.venv/bin:$PATH"

DEMO=${DEMO_DIR:-$PWD/demo-data}
DAYS=(2024-11-27 2024-11-29 2024-12-02)   # 2024-11-29: day after Thanksgiving, 13:00 close
rm -rf "$DEMO" && mkdir -p "$DEMO"
export SPX_DATA_DATABASE_PATH="$DEMO/spx-pipeline.db"
export SPX_DATA_PROCESSING_OUTPUTDIRECTORY="$DEMO/parquet"
export SPX_DATA_PROCESSING_TEMPDIRECTORY="$DEMO/temp"
export SPX_DATA_LOCK_DIR="$DEMO/slots"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "starting the Theta Terminal simulator (spx-sim, preset ${DEMO_PRESET:=small})"
spx-sim --port 0 --port-file "$DEMO/sim.port" --preset "$DEMO_PRESET" --seed 1 2>"$DEMO/sim.log" &
SIM_PID=$!
trap 'kill $SIM_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$DEMO/sim.port" ] && break; sleep 0.1; done
export SPX_DATA_THETADATA_BASEURL="http://127.0.0.1:$(cat "$DEMO/sim.port")"
echo "simulator at $SPX_DATA_THETADATA_BASEURL"

step "configuring"
spx-data config set processing.startDate "${DAYS[0]}"

step "spx-data process ${DAYS[*]}"
spx-data process "${DAYS[@]}"

step "spx-data status"
spx-data status || true

step "spx-data list"
spx-data list

step "spx-data verify --all"
spx-data verify --all

step "sealed files"
find "$DEMO/parquet" -name '*.parquet' | sort | while read -r f; do
  printf '%10s  %s\n' "$(stat -c %s "$f")" "${f#"$DEMO"/}"
done
( cd "$DEMO/parquet" && find . -name '*.sha256' | sort | while read -r s; do (cd "$(dirname "$s")" && sha256sum -c "$(basename "$s")"); done )

step "reading ${DAYS[1]} back with pyarrow"
python - "$DEMO/parquet/2024/11/29/spx-options-2024-11-29.parquet" <<'PY'
import sys
import pyarrow.compute as pc
import pyarrow.parquet as pq
table = pq.read_table(sys.argv[1])
print(f"{table.num_rows:,} rows, {table.num_columns} columns")
print(table.schema.to_string(show_schema_metadata=False))
first = table.slice(0, 3).select(["root", "expiration", "strike", "right", "timestamp", "bid", "ask", "delta", "implied_vol"])
print(first.to_pandas().to_string(index=False))
print("last bar of the early close:", pc.max(table["timestamp"]))
PY
step "done — the simulator is stopped; the data is in $DEMO"
