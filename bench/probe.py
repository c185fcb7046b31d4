"""Peak memory and CPU time of every process a benchmark starts, one line each.

make_shims(DIR) writes one executable per bin/spx-* command into DIR. A shim runs the real
command's script in its own process with sys.argv[0] left in DIR, so spx_data.toolpath, which
looks in the running command's own directory first, starts every child (spx-fetch, spx-log, ...)
through DIR too. At exit each shim appends one JSON line to $SPX_BENCH_PROBE_LOG:

  {"tool": "spx-fetch", "argv": [...], "pid": 123, "rss_mb": 182.4, "user_s": 9.1, "sys_s": 2.0,
   "wall_s": 14.2, "started": 1700000000.0}

rss_mb is the peak resident set of that process alone (VmHWM), never of its children, which
report for themselves. Not ru_maxrss: on Linux a child's ru_maxrss starts at its parent's RSS
at the moment of the fork, so every child of a large parent would look large. A process killed
by a signal reports nothing.
"""
import atexit
import os
import re
import resource
import sys
import time

import ujson

LOG_ENV = "SPX_BENCH_PROBE_LOG"
BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
BIN_DIR = os.path.join(os.path.dirname(BENCH_DIR), "bin")


def make_shims(directory):
    """One shim per bin/spx-* command in DIRECTORY; returns DIRECTORY."""
    os.makedirs(directory, exist_ok=True)
    for name in sorted(os.listdir(BIN_DIR)):
        if not name.startswith("spx-"):
            continue
        path = os.path.join(directory, name)
        with open(path, "w", encoding="utf-8") as shim:
            shim.write(f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {BENCH_DIR!r})\n"
                       f"import probe\nprobe.run({os.path.join(BIN_DIR, name)!r})\n")
        os.chmod(path, 0o755)
    return directory


def run(real_command):
    """Run REAL_COMMAND (a bin/spx-* script) in this process and report at exit."""
    started, wall = time.time(), time.monotonic()
    atexit.register(_report, os.path.basename(sys.argv[0]), sys.argv[1:], started, wall)
    with open(real_command, encoding="utf-8") as handle:
        code = compile(handle.read(), real_command, "exec")
    # (not runpy.run_path: it points sys.argv[0] at the real script while it runs)
    exec(code, {"__name__": "__main__", "__file__": real_command})


def peak_rss_mb():
    """This process's peak resident set in MB."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            return int(re.search(r"VmHWM:\s+(\d+)", status.read()).group(1)) / 1024
    except (OSError, AttributeError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _report(tool, argv, started, wall):
    path = os.environ.get(LOG_ENV)
    if not path:
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    line = ujson.dumps({"tool": tool, "argv": argv, "pid": os.getpid(), "rss_mb": round(peak_rss_mb(), 1),
                        "user_s": round(usage.ru_utime, 3), "sys_s": round(usage.ru_stime, 3),
                        "wall_s": round(time.monotonic() - wall, 3), "started": started})
    # One write of one short line to an O_APPEND file: lines of concurrent processes never mix.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def read_log(path):
    """Every report in the log at PATH (none when it does not exist)."""
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as handle:
        return [ujson.loads(line) for line in handle if line.strip()]


if __name__ == "__main__":     # probe.py SCRIPT ARGS...: any Python script, measured the same way
    sys.argv = sys.argv[1:]
    run(os.path.abspath(sys.argv[0]))
