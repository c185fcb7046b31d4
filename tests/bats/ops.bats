load helpers
load sim_helpers

bats_require_minimum_version 1.5.0

setup() {
  spx_isolate
  # Requests one at a time (so --die-after cuts a day at a known expiration), fast retries.
  export SPX_DATA_THETADATA_MAXCONCURRENTREQUESTS=1 SPX_DATA_THETADATA_MAXRETRIES=1
  export SPX_DATA_THETADATA_RETRYBASESECONDS=0.01
}

teardown() { sim_stop; }

use_sim() {
  sim_start "$@"
  export SPX_DATA_THETADATA_BASEURL="$SIM_URL"
}

closed_url() {
  python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(f"http://127.0.0.1:{s.getsockname()[1]}")'
}

final_of() {
  local d=$1
  echo "$SPX_DATA_PROCESSING_OUTPUTDIRECTORY/${d:0:4}/${d:5:2}/${d:8:2}/spx-options-$d.parquet"
}

stage_of() { echo "$SPX_DATA_PROCESSING_TEMPDIRECTORY/stage/$1"; }

flip_byte() {
  python -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[100] ^= 0xFF; open(p, "wb").write(b)' "$1"
}

sim_data_requests() {
  python -c 'import json, sys, urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1]))["data_requests"])' \
    "$SIM_URL/sim/stats"
}

wait_for_file() {
  local tries
  for ((tries = 0; tries < 600; tries++)); do [[ -e $1 ]] && return 0; sleep 0.05; done
  return 1
}

# -- status ----------------------------------------------------------------------------------
@test "status: key/value lines with the terminal's MDDS status and API version" {
  use_sim
  run spx-data status
  assert_success
  assert_line --regexp '^processed +0$'
  assert_line --regexp "^terminal +$SIM_URL: CONNECTED, api v3$"
  assert_line --regexp '^database +.*not created yet$'
}

@test "status: a terminal that is down is shown, not fatal (json)" {
  run spx-data status --format json --base-url "$(closed_url)"
  assert_success
  run python -c 'import json, sys; t = json.load(sys.stdin)["terminal"]; print(t["reachable"], t["api_version"])' <<<"$output"
  assert_output "False None"
}

@test "status: reflects a run in progress, from what the run logs" {
  use_sim --latency-ms 400
  spx-data process --quiet 2024-01-02 3>&- &
  local run_pid=$!
  wait_for_file "$(stage_of 2024-01-02)/expirations.ndjson"
  run spx-data status
  kill "$run_pid"; wait "$run_pid" || true
  assert_success
  assert_line --regexp "^in_progress +2024-01-02 \(pid $run_pid, [0-9]+ expirations, [0-9,]+ rows so far\)$"
}

@test "status: unknown format is bad usage" {
  run spx-data status --format xml
  assert_failure 2
  assert_output --partial "unknown format 'xml'"
}

# -- health ----------------------------------------------------------------------------------
@test "health: every check passes with a terminal and a start date" {
  use_sim
  export SPX_DATA_PROCESSING_STARTDATE=2024-01-02
  run spx-data health
  assert_success
  assert_line --regexp '^ok +terminal +.*MDDS CONNECTED$'
  assert_line --regexp '^ok +database '
  refute_output --partial FAIL
}

@test "health: a terminal that is down fails with how to fix it" {
  export SPX_DATA_PROCESSING_STARTDATE=2024-01-02
  run spx-data health --base-url "$(closed_url)"
  assert_failure 1
  assert_line --regexp '^FAIL +terminal +.*unreachable'
  assert_line --regexp '^ +fix: start the Theta Terminal'
}

@test "health: not enough disk for the next day (estimate + 50 %) fails the disk check" {
  use_sim
  export SPX_DATA_PROCESSING_STARTDATE=2024-01-02
  echo '{"event":"succeeded","date":"2024-01-02","record_count":1,"expiration_count":1,"file_size_bytes":10000000000000000,"checksum":"'"$(printf 'a%.0s' {1..64})"'"}' | spx-log record
  run spx-data health
  assert_failure 1
  assert_line --regexp '^FAIL +disk space +.* needed \(next day estimated from'
}

# -- the disk-space precheck of a run (PRD FR-2.4) --------------------------------------------
@test "process: refuses with InsufficientDiskSpace and writes nothing when the estimate + 50 % is not free" {
  use_sim
  echo '{"event":"succeeded","date":"2024-01-03","record_count":1,"expiration_count":1,"file_size_bytes":10000000000000000,"checksum":"'"$(printf 'b%.0s' {1..64})"'"}' | spx-log record
  run spx-data process 2024-01-02
  assert_failure
  assert_output --partial "InsufficientDiskSpace"
  assert_output --partial "needed (estimated day + 50 %)"
  run spx-data list --failed-only --format csv
  assert_line --index 1 --regexp '^2024-01-02,failed,.*,InsufficientDiskSpace,'
  [[ ! -e $(stage_of 2024-01-02) ]]
  [[ ! -e $(final_of 2024-01-02) ]]
  run sim_data_requests
  assert_output 0
}

# -- list ------------------------------------------------------------------------------------
@test "list: a processed day with records, size, duration and quality; metrics and their trend" {
  use_sim
  spx-data process --quiet 2024-01-02
  run spx-data list
  assert_success
  assert_line --index 0 --regexp '^DATE +STATUS +RECORDS +SIZE +DURATION +RETRIES +QUALITY +ERROR_TYPE$'
  assert_line --index 1 --regexp '^2024-01-02 +success +[0-9]+ +[0-9.]+ [KM]B +[0-9.]+ s +0 +[0-9.]+ +-$'
  run --separate-stderr spx-data list --metrics
  assert_success
  assert_line --index 1 --regexp '^2024-01-02 +[0-9.]+ +[0-9.]+ +[0-9.]+ '
  [[ $stderr == *"1 day: rows_per_min mean"* ]]
}

@test "list: failures only, as csv; bad filters are bad usage" {
  use_sim --die-after 2
  run spx-data process --quiet 2024-01-02
  assert_failure
  run spx-data list --failed-only --format csv
  assert_success
  assert_line --index 0 'date,status,records,expirations,size_bytes,duration_ms,retries,quality,error_type,error_message,started_at,completed_at'
  assert_line --index 1 --regexp '^2024-01-02,failed,'
  run spx-data list --status finished
  assert_failure 2
  run spx-data list --date-range 2024-01-05..2024-01-02
  assert_failure 2
  assert_output --partial "is after"
}

# -- stop ------------------------------------------------------------------------------------
@test "stop: a running day logs Interrupted, keeps its stage, and a re-run resumes it" {
  use_sim --latency-ms 300
  spx-data process --quiet 2024-01-02 3>&- &
  local run_pid=$!
  wait_for_file "$(stage_of 2024-01-02)/expirations.ndjson"
  run spx-data stop
  assert_success
  assert_line --index 1 --regexp "^$run_pid +2024-01-02 +stopped$"
  local code=0
  wait "$run_pid" || code=$?            # in this shell: `run` would wait from a subshell
  assert_equal "$code" 143
  run spx-data list --format csv
  assert_line --index 1 --regexp '^2024-01-02,failed,.*,Interrupted,'
  [[ -s $(stage_of 2024-01-02)/expirations.ndjson ]]
  run spx-data process --quiet 2024-01-02
  assert_success
  [[ -s $(final_of 2024-01-02) ]]
}

@test "stop: a batch stops launching days once its running day is stopped" {
  use_sim --latency-ms 300
  spx-data process-range --parallel 1 2024-01-02 2024-01-05 3>&- &
  local batch_pid=$!
  wait_for_file "$(stage_of 2024-01-02)/expirations.ndjson"
  run spx-data stop
  assert_success
  local tries
  for ((tries = 0; tries < 300; tries++)); do kill -0 "$batch_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$batch_pid" 2>/dev/null; then kill -9 "$batch_pid"; fail "the batch kept running after stop"; fi
  local code=0
  wait "$batch_pid" || code=$?
  [ "$code" -ne 0 ]
  run spx-data list --format csv
  assert_line --index 1 --regexp '^2024-01-02,failed,.*,Interrupted,'
  refute_line --regexp '^2024-01-0[345],'
}

@test "stop: nothing running is not an error" {
  run --separate-stderr spx-data stop
  assert_success
  [[ $stderr == *"no spx-data run is working on this data directory"* ]]
}

# -- retry -----------------------------------------------------------------------------------
@test "retry: a day the terminal crashed on is retried, resolved and sealed" {
  use_sim --die-after 3
  run spx-data process --quiet 2024-01-02
  assert_failure
  sim_stop
  use_sim
  run --separate-stderr spx-data retry 2024-01-02
  assert_success
  assert_line --index 1 --regexp '^2024-01-02 +failed +[A-Za-z]+ +0 +succeeded$'
  [[ $stderr == *"1 succeeded"* ]]
  run spx-log query errors --date 2024-01-02 --unresolved
  assert_output ""
  run spx-data verify 2024-01-02
  assert_success
}

@test "retry: the retry limit holds a date back; --force without a terminal needs --yes" {
  use_sim
  for _ in 1 2 3 4; do
    printf '%s\n' '{"event":"started","date":"2024-01-02"}' \
      '{"event":"failed","date":"2024-01-02","error_type":"ApiConnection","error_message":"reset"}' | spx-log record
  done
  run spx-data retry 2024-01-02
  assert_failure 1
  assert_output --partial "was retried 3 times (processing.retryLimit 3)"
  run spx-data retry --force 2024-01-02 </dev/null
  assert_failure 2
  assert_output --partial "pass --yes"
  run spx-data retry --force --yes 2024-01-02
  assert_success
  run spx-log query errors --date 2024-01-02
  assert_output --partial '"resolution_method":"retry --force"'
}

@test "retry: an unreachable terminal retries nothing (exit 4)" {
  printf '%s\n' '{"event":"started","date":"2024-01-02"}' \
    '{"event":"failed","date":"2024-01-02","error_type":"ApiConnection","error_message":"reset"}' | spx-log record
  export SPX_DATA_THETADATA_BASEURL="$(closed_url)"
  run spx-data retry --all-failed
  assert_failure 4
  assert_output --partial "nothing retried"
}

# -- cleanup ---------------------------------------------------------------------------------
@test "cleanup: dry run lists a failed day's stage; cleanup removes it and reports the space" {
  use_sim --die-after 3
  run spx-data process --quiet 2024-01-02
  assert_failure
  [[ -d $(stage_of 2024-01-02) ]]
  run spx-data cleanup --dry-run
  assert_success
  assert_line --index 1 --regexp "^would remove +stage +2024-01-02 +$(stage_of 2024-01-02) +[0-9.]+ [KM]?B$"
  [[ -d $(stage_of 2024-01-02) ]]
  run --separate-stderr spx-data cleanup --temp-files
  assert_success
  [[ $stderr =~ removed\ 1\ item,\ [0-9.]+\ [KM]?B\ freed ]]
  [[ ! -e $(stage_of 2024-01-02) ]]
}

@test "cleanup: a corrupt sealed file goes with --failed-outputs, an intact one stays" {
  use_sim
  spx-data process --quiet 2024-01-02 2024-01-03
  flip_byte "$(final_of 2024-01-03)"
  run spx-data cleanup --failed-outputs
  assert_success
  assert_line --regexp "^removed +corrupt +2024-01-03 +$(final_of 2024-01-03) "
  [[ -s $(final_of 2024-01-02) ]]
  [[ ! -e $(final_of 2024-01-03) ]]
}

# -- verify ----------------------------------------------------------------------------------
@test "verify: ok after a run; a flipped byte is corrupt and shows up in gaps; a deleted file is missing" {
  use_sim
  spx-data process --quiet 2024-01-02 2024-01-03
  run spx-data verify
  assert_success
  assert_line --regexp '^2024-01-02 +ok +[0-9]+ +-$'
  flip_byte "$(final_of 2024-01-02)"
  rm "$(final_of 2024-01-03)"
  run spx-data verify --format ndjson
  assert_failure 1
  assert_line --partial '"date":"2024-01-02","outcome":"corrupt"'
  assert_line --partial '"date":"2024-01-03","outcome":"missing"'
  run spx-gaps --from 2024-01-02 --to 2024-01-03 --format csv
  assert_line --regexp '^2024-01-02,corrupt,'
  assert_line --regexp '^2024-01-03,missing_file,'
}

@test "verify: a malformed date is bad usage" {
  run spx-data verify 2024-1-2
  assert_failure 2
  assert_output --partial "expected YYYY-MM-DD"
}
