#!/usr/bin/env bats
# spx-sim from the shell: the bats helpers, curl against both API versions, --oracle/--count.

load helpers
load sim_helpers

setup() { spx_isolate; }
teardown() { sim_stop; }

GREEKS_V2='/v2/bulk_hist/option/greeks?root=SPXW&exp=20240103&start_date=20240102&end_date=20240102&ivl=60000'

@test "sim_start serves v2 and v3 on one port; sim_stop stops it" {
  sim_start
  run curl -fsS "$SIM_URL/v2/system/mdds/status"
  assert_output "CONNECTED"
  run curl -fsS "$SIM_URL/v3/terminal/mdds/status"
  assert_output "CONNECTED"
  pid=$SIM_PID
  sim_stop
  run kill -0 "$pid"
  assert_failure
}

@test "v2 CSV greeks carry a Next-Page header and the contract columns" {
  sim_start --tick-limit 1000
  run curl -fsS -D "$BATS_TEST_TMPDIR/headers" -o "$BATS_TEST_TMPDIR/body.csv" "$SIM_URL$GREEKS_V2&use_csv=true"
  assert_success
  run grep -i '^Next-Page: http://127.0.0.1:[0-9]*/v2/page/[0-9]' "$BATS_TEST_TMPDIR/headers"
  assert_success
  run head -1 "$BATS_TEST_TMPDIR/body.csv"
  assert_output --partial "root,expiration,strike,right,ms_of_day,bid,ask"
  assert_equal "$(($(wc -l <"$BATS_TEST_TMPDIR/body.csv") - 1))" 1000
}

@test "errors are plain-text status codes" {
  sim_start
  saturday='/v2/bulk_hist/option/greeks?root=SPXW&exp=20240103&start_date=20240106&end_date=20240106&ivl=60000'
  run curl -sS -o /dev/null -w '%{http_code}' "$SIM_URL$saturday"
  assert_output 472
  run curl -sS "$SIM_URL/v2/bulk_hist/option/greeks?root=SPXW"
  assert_output --partial "INVALID_PARAMS: missing required parameter exp"
  run curl -sS -o /dev/null -w '%{http_code}' "$SIM_URL/v2/nothing/here"
  assert_output 404
}

@test "--v3-only answers 410 on v2 paths" {
  sim_start --v3-only
  run curl -sS -o /dev/null -w '%{http_code}' "$SIM_URL/v2/system/mdds/status"
  assert_output 410
  v3='/v3/option/history/greeks/first_order?symbol=SPXW&expiration=20240103&date=20240102&interval=1m'
  run curl -fsS "$SIM_URL$v3&format=ndjson"
  assert_success
  assert_equal "$(jq -r .right <<<"${lines[0]}")" CALL
}

@test "stats count what was asked" {
  sim_start --p429 1
  curl -sS -o /dev/null "$SIM_URL$GREEKS_V2"
  run bash -c "curl -fsS '$SIM_URL/sim/stats' | jq -c '.requests[\"/v2/bulk_hist/option/greeks\"], .data_requests'"
  assert_line --index 0 '{"429":1}'
  assert_line --index 1 1
}

@test "--oracle prints NDJSON tick rows and stops quietly under head" {
  run bash -c "spx-sim --oracle 2024-01-02 --preset tiny | head -3"
  assert_success
  assert_equal "${#lines[@]}" 3
  assert_equal "$(jq -r '[.date,.root,.right] | join(" ")' <<<"${lines[0]}")" "2024-01-02 SPXW C"
}

@test "--count sizes a realistic full day without generating it" {
  run spx-sim --count 2024-01-02
  assert_success
  [ "$(jq .rows <<<"$output")" -gt 2000000 ]
  [ "$(jq .expirations <<<"$output")" -gt 40 ]
}

@test "bad flags exit 2" {
  run spx-sim --preset enormous
  assert_failure 2
  assert_output --partial "invalid --preset"
}
