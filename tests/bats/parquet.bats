#!/usr/bin/env bats
# spx-ndjson2parquet and spx-seal from the shell: tick rows in, a sealed, checkable day out.
load helpers

setup() { spx_isolate; }

# tick ROOT EXPIRATION STRIKE RIGHT MS [BID] -> one tick row of 2024-01-02
tick() {
  printf '{"date":"2024-01-02","root":"%s","expiration":"%s","strike":%s,"right":"%s","ms_of_day":%s,' "$1" "$2" "$3" "$4" "$5"
  printf '"bid":%s,"ask":31.6,"delta":0.52,"theta":-2.1,"vega":1.9,"rho":0.12,"epsilon":-0.1,"lambda":78.3,' "${6:-31.2}"
  printf '"implied_vol":0.118,"iv_error":0.0,"ms_of_day2":%s,"underlying_price":4742.17}\n' "$5"
}

stage_ticks() {
  mkdir -p stage
  { tick SPXW 2024-01-05 4705.0 C 34260000; tick SPXW 2024-01-05 4700.0 P 34200000
    tick SPXW 2024-01-05 4700.0 C 34200000; } > stage/SPXW-2024-01-05.ndjson
  { tick SPX 2024-01-19 4700.0 C 34200000; } > stage/SPX-2024-01-19.ndjson
}

final=data/parquet/2024/01/02/spx-options-2024-01-02.parquet

@test "--help is the usage and exits 0" {
  run spx-ndjson2parquet --help
  assert_success
  assert_line --index 1 'Usage:'
  run spx-seal --help
  assert_success
  assert_output --partial 'spx-seal --check FILE...'
}

@test "stage files -> ndjson2parquet -> seal -> check, and sha256sum -c agrees" {
  stage_ticks
  run spx-ndjson2parquet stage/*.ndjson -o stage/day.parquet --date 2024-01-02
  assert_success
  assert_output --partial '"event":"converted","date":"2024-01-02","path":"stage/day.parquet","rows":4,"rejected":0'
  assert_output --partial '"expirations":2,"contracts":4'

  run spx-seal stage/day.parquet "$final"
  assert_success
  assert_output --regexp '^\{"event":"sealed","date":"2024-01-02","path":"'"$final"'","sha256":"[0-9a-f]{64}","file_size_bytes":[0-9]+,"rows":4\}$'
  [ ! -e stage/day.parquet ]
  [ "$(stat -c %a "$final")" = 600 ]
  [ "$(stat -c %a data/parquet/2024/01/02)" = 700 ]

  run spx-seal --check "$final"
  assert_success
  assert_output --partial '"outcome":"ok"'
  cd data/parquet/2024/01/02 && run sha256sum -c spx-options-2024-01-02.parquet.sha256
  assert_success
}

@test "rows come back sorted by root, expiration, strike, right, time" {
  stage_ticks
  spx-ndjson2parquet stage/*.ndjson -o day.parquet >/dev/null
  run python -c 'import pyarrow.parquet as pq; t = pq.read_table("day.parquet")
for r in t.select(["root", "expiration", "strike", "right"]).to_pylist(): print(r["root"], r["expiration"], r["strike"], r["right"])'
  assert_success
  assert_output "SPX 2024-01-19 4700.0 C
SPXW 2024-01-05 4700.0 C
SPXW 2024-01-05 4700.0 P
SPXW 2024-01-05 4705.0 C"
}

@test "stdin works, and garbage lines are rejects with line numbers, not a failure" {
  run spx-ndjson2parquet -o day.parquet --rejects rejects.ndjson < <(tick SPXW 2024-01-05 4700.0 C 34200000; echo 'not json'; tick SPXW 2024-01-05 4700.0 X 34200000)
  assert_success
  assert_output --partial '"rows":1,"rejected":2'
  run cat rejects.ndjson
  assert_line --index 0 --partial '"file":"-","line":2,"reason":"not valid JSON'
  assert_line --index 1 --partial '"line":3,"reason":"right must be C or P, got '"'X'"'"'
}

@test "missing -o, a bad date and an unreadable file exit 2 with one line" {
  run spx-ndjson2parquet
  assert_failure 2
  run spx-ndjson2parquet -o day.parquet --date 2024-13-01 /dev/null
  assert_failure 2
  assert_output --partial 'YYYY-MM-DD'
  run spx-ndjson2parquet -o day.parquet nowhere.ndjson
  assert_failure 2
  assert_output 'spx-ndjson2parquet: cannot read nowhere.ndjson: No such file or directory'
}

@test "seal refuses a FINAL of the wrong shape (2) and a damaged file (1), keeping TMP" {
  stage_ticks
  spx-ndjson2parquet stage/*.ndjson -o day.parquet >/dev/null
  run spx-seal day.parquet data/parquet/day.parquet
  assert_failure 2
  [ -e day.parquet ]
  printf 'garbage' > bad.parquet
  run spx-seal bad.parquet "$final"
  assert_failure 1
  assert_output --partial 'failed verification'
  [ -e bad.parquet ] && [ ! -e "$final" ]
}

@test "--check says missing and exits 1" {
  run spx-seal --check "$final"
  assert_failure 1
  assert_output --partial '"outcome":"missing"'
}
