load helpers

bats_require_minimum_version 1.5.0
setup() { spx_isolate; }

# A real sealed day (small Parquet + sidecar) logged as succeeded with its checksum.
seal_day() {
  python - "$1" <<'EOF'
import sys
import pyarrow as pa, pyarrow.parquet as pq
from spx_data import integrity, layout, logclient
import os
day = sys.argv[1]
final = layout.final_path(os.environ["SPX_DATA_PROCESSING_OUTPUTDIRECTORY"], day)
final.parent.mkdir(parents=True, exist_ok=True)
pq.write_table(pa.table({"date": [day], "strike": [4700.0]}), final)
checksum = integrity.sha256_file(final)
layout.sidecar_path(final).write_text(integrity.sidecar_text(final, checksum))
logclient.record([{"event": "started", "date": day},
                  {"event": "succeeded", "date": day, "record_count": 1, "expiration_count": 1,
                   "file_size_bytes": final.stat().st_size, "checksum": checksum}])
print(final)
EOF
}
export PYTHONPATH="$REPO/lib"

@test "spx-gaps prints bare trading days, oldest first, ready for xargs" {
  run spx-gaps --from 2024-03-27 --to 2024-04-02
  assert_success
  assert_output "$(printf '%s\n' 2024-03-27 2024-03-28 2024-04-01 2024-04-02)"  # Good Friday, weekend skipped
  run bash -c 'spx-gaps --from 2024-03-27 --to 2024-04-02 | xargs -n1 echo day'
  assert_line --index 0 "day 2024-03-27"
}

@test "spx-data gaps is a table by default and says 'no gaps' on stderr when there are none" {
  run spx-data gaps --from 2024-03-28 --to 2024-03-28
  assert_success
  assert_line --index 0 --regexp '^DATE +CATEGORY +RETRY_COUNT +ERROR_TYPE +PRIORITY +DETAIL$'
  assert_line --index 1 --regexp '^2024-03-28 +never_attempted +0 +- +[0-9.]+ +-$'
  run --separate-stderr spx-data gaps --from 2024-03-29 --to 2024-03-31
  assert_success
  assert_output ""
  [ "$stderr" = "spx-data gaps: no gaps from 2024-03-29 to 2024-03-31" ]
}

@test "a deleted sealed file is missing_file, a flipped byte is corrupt, an intact one is no gap" {
  seal_day 2024-01-03 >/dev/null
  deleted=$(seal_day 2024-01-04)
  flipped=$(seal_day 2024-01-05)
  run spx-gaps --from 2024-01-03 --to 2024-01-05
  assert_success
  assert_output ""
  rm "$deleted"
  printf '\x00\x01' | dd of="$flipped" bs=1 seek=8 conv=notrunc status=none
  run spx-gaps --from 2024-01-03 --to 2024-01-05 --format csv
  assert_success
  assert_line --index 1 --regexp '^2024-01-04,missing_file,0,,[0-9.]+,logged success but .* is gone$'
  assert_line --index 2 --regexp '^2024-01-05,corrupt,0,,[0-9.]+,sha256 differs from the sidecar$'
  assert [ "${#lines[@]}" -eq 3 ]
}

@test "failed days carry their retry count and last error type; --category filters" {
  printf '%s\n' '{"event":"started","date":"2024-01-08"}' \
    '{"event":"failed","date":"2024-01-08","error_type":"ApiConnection","error_message":"reset"}' \
    '{"event":"started","date":"2024-01-08"}' \
    '{"event":"failed","date":"2024-01-08","error_type":"ApiRateLimit","error_message":"429"}' | spx-log record
  run spx-gaps --from 2024-01-02 --to 2024-01-12 --category failed --format ndjson
  assert_success
  assert_output --regexp '^\{"date":"2024-01-08","category":"failed","retry_count":1,"error_type":"ApiRateLimit","priority":[0-9.]+,"detail":"429"\}$'
}

@test "relative ranges: --since and --last end at the last completed session" {
  export SPX_DATA_PROCESSING_STARTDATE=2000-01-03
  today=$(TZ=America/New_York date +%F)
  run spx-gaps --last 2w
  assert_success
  [ "${#lines[@]}" -ge 7 ] && [ "${#lines[@]}" -le 10 ]
  [[ "${lines[0]}" > "$(TZ=America/New_York date -d '15 days ago' +%F)" ]]
  [[ ! "${lines[-1]}" > "$today" ]]
  run spx-gaps --since "30 days ago" --format csv
  assert_success
  [ "${#lines[@]}" -ge 19 ]
  [[ "${lines[1]}" > "$(TZ=America/New_York date -d '31 days ago' +%F)" ]]
  run spx-gaps --since yesterday --to 2000-01-05
  assert_failure 2
}

@test "bad input: one line, exit 2, nothing on stdout" {
  export SPX_DATA_PROCESSING_STARTDATE=2024-01-02
  run --separate-stderr spx-gaps --from 2024-03-02 --to 2024-03-01
  assert_failure 2
  assert_output ""
  [ "$stderr" = "spx-gaps: the range starts 2024-03-02, after its end 2024-03-01; pass an earlier start" ]
  run --separate-stderr spx-gaps --from 2024-02-30
  assert_failure 2
  [ "$stderr" = "spx-gaps: invalid --from '2024-02-30': day is out of range for month; expected YYYY-MM-DD, e.g. 2024-01-02" ]
  run --separate-stderr spx-data gaps --format xml
  assert_failure 2
  [ "$stderr" = "spx-data gaps: unknown format 'xml'; expected one of text, table, ndjson, json, csv" ]
  run --separate-stderr spx-gaps --from 2023-12-01
  assert_failure 2
  [[ "$stderr" == "spx-gaps: the range starts 2023-12-01, before processing.startDate 2024-01-02; "* ]]
  run --separate-stderr spx-gaps --to 2999-01-01
  assert_failure 2
  [[ "$stderr" == "spx-gaps: --to 2999-01-01 is in the future; the last completed session is "* ]]
}

@test "without processing.startDate and --from it says how to set it" {
  run --separate-stderr spx-data gaps
  assert_failure 2
  [ "$stderr" = "spx-data gaps: set processing.startDate (spx-data config set processing.startDate 2024-01-02) or pass --from" ]
}

@test "spx-data gaps --help is the usage of spx-gaps" {
  run spx-data gaps --help
  assert_success
  assert_line --index 0 "spx-gaps — trading days without a sealed, verified Parquet file."
  assert_output --partial "\`spx-data gaps\` is this command with --format table by default."
}
