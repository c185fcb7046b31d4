# spx-sim for bats tests: `load sim_helpers` after `load helpers`.
#   sim_start [spx-sim flags...]   start on a free port (tiny preset, seed 7 unless given);
#                                  exports SIM_URL=http://127.0.0.1:PORT and SIM_PID
#   sim_stop                       stop it (harmless when it already exited)
# Its stdout/stderr go to $BATS_TEST_TMPDIR/sim.out and sim.err.

sim_start() {
  local args=("$@")
  [[ " $* " == *" --preset "* ]] || args+=(--preset tiny)
  [[ " $* " == *" --seed "* ]] || args+=(--seed 7)
  local port_file="$BATS_TEST_TMPDIR/sim.port"
  rm -f "$port_file"
  # fd 3 closed: bats waits for every process holding it
  spx-sim --port 0 --port-file "$port_file" "${args[@]}" \
    >"$BATS_TEST_TMPDIR/sim.out" 2>"$BATS_TEST_TMPDIR/sim.err" 3>&- &
  SIM_PID=$!
  local tries
  for ((tries = 0; tries < 400; tries++)); do
    [[ -s $port_file ]] && break
    if ! kill -0 "$SIM_PID" 2>/dev/null; then
      echo "spx-sim exited at start: $(cat "$BATS_TEST_TMPDIR/sim.err")" >&2
      return 1
    fi
    sleep 0.05
  done
  [[ -s $port_file ]] || { echo "spx-sim did not start within 20 s" >&2; return 1; }
  SIM_URL="http://127.0.0.1:$(<"$port_file")"
  export SIM_URL SIM_PID
}

sim_stop() {
  [[ -n ${SIM_PID:-} ]] || return 0
  kill "$SIM_PID" 2>/dev/null || true
  wait "$SIM_PID" 2>/dev/null || true
  unset SIM_PID SIM_URL
}
