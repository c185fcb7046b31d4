#!/usr/bin/env bats
# spx-expirations and spx-fetch from the shell, against spx-sim: pipes, stage files, exit codes,
# and the machine-wide request cap under xargs -P.
load helpers
load sim_helpers

setup() {
  spx_isolate
  export SPX_DATA_THETADATA_RETRYBASESECONDS=0.01
}

teardown() { sim_stop; }

served_rows() { spx-sim --count 2024-01-03 --preset tiny --seed 7 | sed -E 's/.*"rows":([0-9]+).*/\1/'; }

@test "spx-expirations | spx-fetch prints every row the terminal serves" {
  sim_start
  spx-expirations --base-url "$SIM_URL" 2024-01-03 > expirations.ndjson
  run spx-fetch --base-url "$SIM_URL" expirations.ndjson
  assert_success
  assert_equal "${#lines[@]}" "$(served_rows)"
  assert_line --index 0 --regexp '^\{"date":"2024-01-03","root":"SPX[W]?","expiration":"[0-9-]{10}","strike":[0-9.]+,"right":"[CP]","ms_of_day":[0-9]+,"bid":'
}

@test "--help is the usage and exits 0; a bad option exits 2" {
  run spx-fetch --help
  assert_success
  assert_line --index 0 'Fetch the first-order greeks of expirations from the Theta Terminal.'
  run spx-fetch --no-such-option
  assert_failure 2
}

@test "a malformed expiration line exits 2 naming its line; nothing is fetched" {
  sim_start
  run spx-fetch --base-url "$SIM_URL" <<< $'{"date":"2024-01-03","root":"SPXW","expiration":"2024-01-05"}\n{"date":"2024-01-03"'
  assert_failure 2
  assert_output --regexp '^spx-fetch: -:2: not valid JSON'
  run curl -s "$SIM_URL/sim/stats"
  assert_output --partial '"data_requests": 0'
}

@test "a terminal that is not running: exit 4 and what to do" {
  run spx-expirations --base-url http://127.0.0.1:9 2024-01-03
  assert_failure 4
  assert_output 'spx-expirations: is the Theta Terminal running at http://127.0.0.1:9? (start it, or `spx-sim` for the simulator)'
}

@test "--stage resumes: only the missing expiration is fetched again" {
  sim_start
  spx-expirations --base-url "$SIM_URL" 2024-01-03 > expirations.ndjson
  spx-fetch --base-url "$SIM_URL" --stage stage < expirations.ndjson > first.ndjson
  assert_equal "$(ls stage | wc -l)" "$(wc -l < expirations.ndjson)"
  rm stage/SPXW-2024-01-04.ndjson
  curl -s "$SIM_URL/sim/reset-stats" > /dev/null
  run spx-fetch --base-url "$SIM_URL" --stage stage < expirations.ndjson
  assert_success
  assert_equal "$(grep -c '"skipped":false' <<< "$output")" 1
  assert_line --partial '"root":"SPXW","expiration":"2024-01-04","rows":'
  assert_equal "$(cat stage/*.ndjson | wc -l)" "$(served_rows)"
  run curl -s "$SIM_URL/sim/stats"
  assert_output --partial '"data_requests": 1,'
}

@test "--events /dev/fd/3 keeps events apart from the rows on stdout" {
  sim_start --p429 0.3 --seed 3
  spx-expirations --base-url "$SIM_URL" 2024-01-03 > expirations.ndjson
  spx-fetch --base-url "$SIM_URL" --events /dev/fd/3 < expirations.ndjson > rows.ndjson 3> events.ndjson
  assert_equal "$(wc -l < rows.ndjson)" "$(served_rows)"
  assert_equal "$(grep -c '"event":"expiration_done"' events.ndjson)" "$(wc -l < expirations.ndjson)"
  run grep -c '"event":"error","date":"2024-01-03","error_type":"ApiRateLimit"' events.ndjson
  assert_success
  run grep -c '"date"' rows.ndjson
  assert_output "$(served_rows)"
}

@test "xargs -P4 spx-fetch keeps at most maxConcurrentRequests requests in flight" {
  sim_start --latency-ms 40 --max-in-flight 2
  export SPX_DATA_THETADATA_MAXCONCURRENTREQUESTS=2
  spx-expirations --base-url "$SIM_URL" 2024-01-03 | split -l 1 - expiration-
  curl -s "$SIM_URL/sim/reset-stats" > /dev/null
  run bash -c "ls expiration-* | xargs -P4 -n1 spx-fetch --base-url '$SIM_URL' --stage stage"
  assert_success
  assert_equal "$(cat stage/*.ndjson | wc -l)" "$(served_rows)"
  run curl -s "$SIM_URL/sim/stats"
  assert_output --regexp '"max_in_flight": [12],'
  refute_output --partial '"429"'
}
