# Faults as users meet them from the shell: a flaky terminal under xargs -P4, and the same date
# started twice at once. End state: every file verifies, the log tells the truth, no partial file.
load helpers
load sim_helpers
bats_require_minimum_version 1.5.0

setup() {
  spx_isolate
  export SPX_DATA_THETADATA_RETRYBASESECONDS=0.01
  OUT="$SPX_DATA_PROCESSING_OUTPUTDIRECTORY"
}
teardown() { sim_stop; }

final() { local d=$1; echo "$OUT/${d:0:4}/${d:5:2}/${d:8:2}/spx-options-$d.parquet"; }

stat_of() { curl -s "$SIM_URL/sim/stats" | python -c "import json, sys; print(eval(sys.argv[1], {}, json.load(sys.stdin)))" "$1"; }

no_partial_files() { [ -z "$(find "$OUT" -type f \( -name '*.part' -o -name '*.tmp' -o -name '.*' \))" ]; }

@test "429/474/571 at 30 % under xargs -P4: every day sealed, every retry logged, the cap held" {
  sim_start --p429 0.1 --p474 0.1 --p571 0.1 --latency-ms 20
  # 10 retries: 0.3^11, a request that never gets through, does not happen in this suite's lifetime.
  export SPX_DATA_THETADATA_BASEURL="$SIM_URL" SPX_DATA_THETADATA_MAXCONCURRENTREQUESTS=2 SPX_DATA_THETADATA_MAXRETRIES=10
  days=(2024-01-02 2024-01-03 2024-01-04 2024-01-05)
  run bash -c 'printf "%s\n" "$@" | xargs -n1 -P4 spx-data process --quiet' _ "${days[@]}"
  assert_success
  files=()
  for d in "${days[@]}"; do files+=("$(final "$d")"); done
  run spx-seal --check "${files[@]}"
  assert_success
  [ "$(stat_of max_in_flight)" -le 2 ]                    # four processes, eight threads, two slots
  injected=$(stat_of 'sum(faults.values())')
  [ "$injected" -ge 1 ]
  logged=0
  for d in "${days[@]}"; do
    n=$(spx-log query errors --date "$d" | wc -l)
    logged=$((logged + n))
    run spx-log query processing --date "$d"
    assert_output --partial '"status":"success"'
  done
  [ "$logged" -eq "$injected" ]                           # each injected fault is one retry, logged
  no_partial_files
  spx-data config set processing.startDate 2024-01-02
  run spx-gaps --to 2024-01-05
  assert_output ""
}

@test "the same date twice at once: one run works, the other refuses or finds it sealed; no corruption" {
  sim_start --latency-ms 50
  export SPX_DATA_THETADATA_BASEURL="$SIM_URL"
  run --separate-stderr bash -c 'printf "2024-01-03\n2024-01-03\n" | xargs -n1 -P2 spx-data process --quiet'
  if [ "$status" -ne 0 ]; then                            # both ran at once: the second was refused
    assert_equal "$status" 123                            # xargs: a run exited 1
    [[ $stderr =~ ^"spx-data process: 2024-01-03 is already being processed (pid "[0-9]+"); not started"$ ]]
  fi
  run spx-seal --check "$(final 2024-01-03)"
  assert_success
  run spx-log query processing --date 2024-01-03
  assert_output --partial '"status":"success"'
  assert_output --partial '"retry_count":0'
  expirations=$(spx-sim --count 2024-01-03 --preset tiny --seed 7 | python -c 'import json, sys; print(json.load(sys.stdin)["expirations"])')
  [ "$(stat_of "sum(sum(c.values()) for p, c in requests.items() if 'greeks' in p)")" -eq "$expirations" ]  # fetched once
  no_partial_files
}
