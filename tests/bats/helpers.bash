# Loaded by every .bats file: isolated data dirs, the checkout's bin/ first on PATH, bats-assert.
bats_load_library bats-support
bats_load_library bats-assert

REPO="$(cd "$(dirname "${BATS_TEST_FILENAME}")/../.." && pwd)"
export PATH="$REPO/bin:$REPO/.venv/bin:$PATH"

spx_isolate() {
  export SPX_DATA_DATABASE_PATH="$BATS_TEST_TMPDIR/data/spx-pipeline.db"
  export SPX_DATA_PROCESSING_OUTPUTDIRECTORY="$BATS_TEST_TMPDIR/data/parquet"
  export SPX_DATA_PROCESSING_TEMPDIRECTORY="$BATS_TEST_TMPDIR/data/temp"
  export SPX_DATA_LOCK_DIR="$BATS_TEST_TMPDIR/slots"
  cd "$BATS_TEST_TMPDIR"
}
