#!/usr/bin/env bats
# spx-log from the shell: exit codes, one-line messages, NDJSON out.
load helpers

setup() { spx_isolate; }

@test "record then query processing prints NDJSON rows" {
  printf '%s\n' '{"event":"started","date":"2024-01-02"}' \
    '{"event":"succeeded","date":"2024-01-02","record_count":5,"expiration_count":1,"file_size_bytes":10,"checksum":"ab"}' \
    | spx-log record
  run spx-log query processing --status success
  assert_success
  assert_output --partial '"date":"2024-01-02","status":"success"'
  assert_output --partial '"record_count":5'
}

@test "a truncated last line names its line number, exits 2 and writes nothing" {
  run spx-log record <<< $'{"event":"queued","date":"2024-01-02"}\n{"event":"queued","da'
  assert_failure 2
  assert_output --regexp '^spx-log: -:2: not valid JSON'
  assert [ "${#lines[@]}" -eq 1 ]
  run spx-log query processing
  assert_output ''
}

@test "a missing field is reported with the file name and line" {
  printf '%s\n' '{"event":"queued","date":"2024-01-02"}' '' '{"event":"metric","date":"2024-01-02"}' > events.ndjson
  run spx-log record events.ndjson
  assert_failure 2
  assert_output "spx-log: events.ndjson:3: metric: required field 'metric_name' is missing"
}

@test "--each keeps the good lines and exits 2 for the bad one" {
  run spx-log record --each <<< $'{"event":"queued","date":"2024-01-02"}\nnonsense\n{"event":"queued","date":"2024-01-03"}'
  assert_failure 2
  assert_line --index 0 --partial 'spx-log: -:2: not valid JSON'
  run spx-log query processing
  assert_equal "${#lines[@]}" 2
}

@test "a database from a newer schema version exits 3 with one line" {
  spx-log record <<< '{"event":"queued","date":"2024-01-02"}'
  python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"INSERT INTO schema_version VALUES (999,'future','x')\"); c.commit()" "$SPX_DATA_DATABASE_PATH"
  run spx-log query processing
  assert_failure 3
  assert_output --partial 'schema version 999, newer than this spx-data knows'
  refute_output --partial Traceback
}

@test "a file that is not a database exits 3" {
  mkdir -p data && head -c 4096 /dev/urandom > "$SPX_DATA_DATABASE_PATH"
  run spx-log check
  assert_failure 3
  assert_output --partial 'is not an SQLite database'
}

@test "a database path below a regular file exits 3" {
  touch afile
  run spx-log --db afile/sub/log.db record <<< '{"event":"queued","date":"2024-01-02"}'
  assert_failure 3
  assert_output --partial 'cannot create the database directory'
}

@test "summary counts by status and check reports integrity" {
  printf '%s\n' '{"event":"queued","date":"2024-01-02"}' '{"event":"started","date":"2024-01-03"}' | spx-log record
  run spx-log query summary
  assert_success
  assert_output --partial '"counts":{"queued":1,"processing":1,"success":0,"failed":0}'
  run spx-log check
  assert_success
  assert_output --partial '"integrity_check":"ok"'
}

@test "config set validates, config history keeps the change" {
  run spx-log config set thetadata.maxConcurrentRequests 0
  assert_failure 2
  assert_output --partial 'expected a whole number from 1 to 24'
  run spx-log config set --by ops thetadata.maxConcurrentRequests 2
  assert_success
  run spx-log config history thetadata.maxConcurrentRequests
  assert_output --partial '"old_value":"4","new_value":"2"'
  assert_output --partial '"changed_by":"ops"'
}

@test "--help is the usage and exits 0" {
  run spx-log --help
  assert_success
  assert_line --index 0 --partial 'spx-log'
  assert_output --partial 'spx-log [--db PATH] record [--each] [FILE]'
}
