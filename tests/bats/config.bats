#!/usr/bin/env bats
# `spx-data config` from the shell.
load helpers

setup() { spx_isolate; }

@test "config get is a table of key, value and source" {
  run spx-data config get
  assert_success
  assert_line --index 0 --regexp '^KEY +VALUE +SOURCE$'
  assert_line --regexp '^thetadata\.baseUrl +http://127\.0\.0\.1:25510 +default$'
  assert_line --regexp '^processing\.tempDirectory +.*/data/temp +environment$'
}

@test "environment overrides the database, and config get says so" {
  spx-data config set thetadata.baseUrl http://127.0.0.1:25503
  run spx-data config get thetadata.baseUrl --format env
  assert_output 'thetadata.baseUrl=http://127.0.0.1:25503'
  SPX_DATA_THETADATA_BASEURL=http://127.0.0.1:25999 run spx-data config get thetadata.baseUrl --format json
  assert_output --partial '"value": "http://127.0.0.1:25999"'
  assert_output --partial '"source": "environment"'
}

@test "config set with a bad value says what a valid one looks like and exits 2" {
  run spx-data config set processing.startDate 2024-02-30
  assert_failure 2
  assert_output --partial 'processing.startDate=2024-02-30'
  assert_output --partial 'expected a YYYY-MM-DD date not in the future'
  run spx-data config set thetadata.baseUrl ftp://host
  assert_failure 2
  assert_output --partial 'not an http:// or https:// URL'
}

@test "config get --history shows who changed what" {
  spx-data config set processing.roots SPXW
  run spx-data config get --history
  assert_success
  assert_line --index 0 --regexp '^KEY +OLD_VALUE +NEW_VALUE +CHANGED_AT +CHANGED_BY$'
  assert_line --index 1 --regexp '^processing\.roots +SPXW,SPX +SPXW +[0-9T:.-]+Z +.+$'
}

@test "config validate fails until the start date is set" {
  run spx-data config validate
  assert_failure 1
  assert_output --partial 'spx-data config set processing.startDate'
  spx-data config set processing.startDate 2024-01-02
  run spx-data config validate
  assert_success
}

@test "config reset refuses without a terminal or --yes" {
  spx-data config set processing.parallelism 4
  run spx-data config reset < /dev/null
  assert_failure 2
  assert_output --partial 'pass --yes'
  run spx-data config get processing.parallelism --format env
  assert_output 'processing.parallelism=4'
  run spx-data config reset --yes
  assert_success
  run spx-data config get processing.parallelism --format env
  assert_output 'processing.parallelism=2'
}

@test "config --help documents every key with its default" {
  run spx-data config --help
  assert_success
  assert_output --partial 'thetadata.maxConcurrentRequests = 4'
  assert_output --partial 'processing.outputDirectory = ./data/parquet'
  assert_output --partial 'SPX_DATA_THETADATA_BASEURL'
}
