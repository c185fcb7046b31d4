# The day pipeline as users compose it: spx-data process, xargs over spx-gaps, make targets,
# and the single-purpose tools by hand — against the real simulator.
load helpers
load sim_helpers
bats_require_minimum_version 1.5.0

setup() {
  spx_isolate
  sim_start
  export SPX_DATA_THETADATA_BASEURL="$SIM_URL" SPX_DATA_THETADATA_RETRYBASESECONDS=0.01
  OUT="$SPX_DATA_PROCESSING_OUTPUTDIRECTORY"
}
teardown() { sim_stop; }

final() { local d=$1; echo "$OUT/${d:0:4}/${d:5:2}/${d:8:2}/spx-options-$d.parquet"; }

rows_of() { python -c 'import sys, pyarrow.parquet as pq; print(pq.read_metadata(sys.argv[1]).num_rows)' "$1"; }

@test "process seals a day that sha256sum -c accepts, and logs it" {
  run spx-data process 2024-01-03
  assert_success
  assert_output --partial "2024-01-03: sealed"
  f=$(final 2024-01-03)
  (cd "$(dirname "$f")" && sha256sum -c "$(basename "$f").sha256")
  run spx-log query processing --date 2024-01-03
  assert_output --partial '"status":"success"'
}

@test "progress is one plain line per expiration when stderr is not a terminal" {
  run --separate-stderr spx-data process 2024-01-03
  assert_success
  [ -z "$output" ]                                        # nothing on stdout
  expirations=$(spx-expirations 2024-01-03 | wc -l)
  per_expiration=$(grep -c ' expirations  SPX' <<<"$stderr")
  [ "$per_expiration" -eq "$expirations" ]
}

@test "spx-gaps | xargs -n1 -P4 spx-data process fills every gap" {
  spx-data config set processing.startDate 2024-01-02
  run bash -c 'spx-gaps --to 2024-01-09 | xargs -n1 -P4 spx-data process --quiet'
  assert_success
  run spx-gaps --to 2024-01-09
  assert_success
  assert_output ""
  for d in 2024-01-02 2024-01-03 2024-01-04 2024-01-05 2024-01-08 2024-01-09; do [ -f "$(final $d)" ]; done
}

@test "spx-gaps | xargs -P4 spx-data process (several dates per process) works too" {
  spx-data config set processing.startDate 2024-01-02
  run bash -c 'spx-gaps --to 2024-01-05 | xargs -P4 spx-data process --quiet'
  assert_success
  run spx-gaps --to 2024-01-05
  assert_output ""
}

@test "make builds exactly one day, then is a no-op" {
  target="$BATS_TEST_TMPDIR/data/2024/01/02/spx-options-2024-01-02.parquet"
  run make -s -f "$REPO/Makefile" -j4 "$target"
  assert_success
  [ -f "$target" ] && [ -f "$target.sha256" ]
  [ "$(find "$BATS_TEST_TMPDIR/data" -name '*.parquet' | wc -l)" -eq 1 ]
  run make -f "$REPO/Makefile" "$target"
  assert_success
  assert_output --partial "is up to date"
}

@test "make -j4 builds several days at once" {
  targets=()
  for d in 2024-01-02 2024-01-03 2024-01-04; do
    targets+=("$BATS_TEST_TMPDIR/data/${d:0:4}/${d:5:2}/${d:8:2}/spx-options-$d.parquet")
  done
  run make -s -f "$REPO/Makefile" -j4 "${targets[@]}"
  assert_success
  for t in "${targets[@]}"; do [ -f "$t" ]; done
}

@test "make refuses a weekend and leaves nothing behind" {
  target="$BATS_TEST_TMPDIR/data/2024/01/06/spx-options-2024-01-06.parquet"
  run make -s -f "$REPO/Makefile" "$target"
  assert_failure
  assert_output --partial "Saturday"
  [ ! -e "$target" ]
}

@test "the tools compose by hand into the same day" {
  spx-data process 2024-01-03 >/dev/null 2>&1
  spx-expirations 2024-01-03 | spx-fetch > ticks.ndjson
  run spx-ndjson2parquet ticks.ndjson -o day.parquet
  assert_success
  assert_output --partial '"event":"converted"'
  mkdir -p other
  run spx-seal day.parquet other/2024/01/03/spx-options-2024-01-03.parquet
  assert_success
  python - "$(final 2024-01-03)" other/2024/01/03/spx-options-2024-01-03.parquet <<'PY'
import sys, pyarrow.parquet as pq
assert pq.read_table(sys.argv[1]).equals(pq.read_table(sys.argv[2]))
PY
}

@test "spx-fetch --stage | spx-ndjson2parquet --follow converts while fetching, into the same day" {
  spx-data process 2024-01-03 >/dev/null 2>&1
  spx-expirations 2024-01-03 > exps.ndjson
  files=$(python -c 'import json, sys
for line in sys.stdin: r = json.loads(line); print("S/%s-%s.ndjson" % (r["root"], r["expiration"]))' < exps.ndjson)
  run bash -c 'spx-fetch --stage S --typed-copy < exps.ndjson | spx-ndjson2parquet --follow -o day.parquet "$@"' _ $files
  assert_success
  assert_output --partial '"event":"converted"'
  python - "$(final 2024-01-03)" day.parquet <<'PY'
import sys, pyarrow.parquet as pq
assert pq.read_table(sys.argv[1]).equals(pq.read_table(sys.argv[2]))
PY
}

@test "process-range processes trading days only and summarises" {
  run spx-data process-range 2024-01-05 2024-01-09 --parallel 2
  assert_success
  assert_output --partial "3 days: 3 succeeded"
  [ ! -e "$OUT/2024/01/06" ] && [ -f "$(final 2024-01-08)" ]
}

@test "process-range: one failing day does not stop the others; exit 1" {
  # A local failure on one day: its stage directory cannot be created (a file is in the way).
  mkdir -p "$SPX_DATA_PROCESSING_TEMPDIRECTORY/stage"
  touch "$SPX_DATA_PROCESSING_TEMPDIRECTORY/stage/2024-01-04"
  run spx-data process-range 2024-01-03 2024-01-05 --parallel 2
  assert_failure 1
  assert_output --partial "2 succeeded, 1 failed (failed: 2024-01-04)"
  [ -f "$(final 2024-01-03)" ] && [ -f "$(final 2024-01-05)" ]
  run spx-log query processing --date 2024-01-04
  assert_output --partial '"status":"failed"'
  assert_output --partial '"error_type":"FileSystem"'
}

@test "bad ranges are refused with exit 2 before anything runs" {
  run spx-data process-range 2024-01-09 2024-01-02
  assert_failure 2
  assert_output --partial "after END"
  run spx-data process-range 2024-02-30 2024-03-05
  assert_failure 2
  spx-data config set processing.startDate 2024-01-02
  run spx-data process-range 2023-12-01 2024-01-05
  assert_failure 2
  assert_output --partial "before processing.startDate"
  [ ! -e "$OUT" ]
}

@test "process-gaps --dry-run plans without fetching" {
  spx-data config set processing.startDate 2024-01-02
  run spx-data process-gaps --dry-run --to 2024-01-05
  assert_success
  assert_output --partial "2024-01-04  never_attempted"
  assert_output --partial "estimates: stated defaults"
  run curl -s "$SIM_URL/sim/stats"
  assert_output --partial '"data_requests": 0'
}

@test "process-gaps processes the gaps in batches" {
  spx-data config set processing.startDate 2024-01-02
  run spx-data process-gaps --to 2024-01-05 --batch-size 2 --parallel 2
  assert_success
  assert_output --partial "batch 2: 2 days"
  run spx-gaps --to 2024-01-05
  assert_output ""
}

@test "spx-gaps | head -1 ends quietly" {
  spx-data config set processing.startDate 2020-01-02
  run bash -c 'set -o pipefail; spx-gaps --to 2024-01-05 | head -1'
  assert_output "2020-01-02"
}

@test "a slow expiration still shows progress at least every 5 s" {
  sim_stop
  sim_start --latency-ms 6500
  export SPX_DATA_THETADATA_BASEURL="$SIM_URL" SPX_DATA_THETADATA_MAXCONCURRENTREQUESTS=1 SPX_DATA_PROCESSING_ROOTS=SPX
  run --separate-stderr spx-data process 2024-01-03
  assert_success
  # before the first expiration completes (>= 6.5 s) a "fetching" line has been printed
  first_done=$(grep -n ' 1/[0-9]* expirations' <<<"$stderr" | head -1 | cut -d: -f1)
  heartbeat=$(grep -n ' 0/[0-9]* expirations  fetching' <<<"$stderr" | head -1 | cut -d: -f1)
  [ -n "$heartbeat" ] && [ "$heartbeat" -lt "$first_done" ]
}
