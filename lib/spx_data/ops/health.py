"""`spx-data health`: every dependency of a run, one check each, with a fix for each failure.

  configuration    every effective value parses, and processing.startDate is set;
  output/temp dir  writable, or creatable (the same test `spx-data config set` applies);
  disk space       per file system: free bytes >= the next day's estimate + 50 % (spx_data.diskspace,
                   the test the pipeline's precheck applies, from the largest recent days logged);
  database         `spx-log check`: integrity_check ok and the schema version (a database not
                   created yet is fine when its directory is writable);
  terminal         reachable, and MDDS status CONNECTED;
  api version      detected (v2/v3) and, when thetadata.apiVersion is not auto, the one configured.
The terminal is probed in parallel with the rest, with a 1 s connect timeout, so that health
answers within 3 s when the terminal is down.
"""
import os
from concurrent.futures import ThreadPoolExecutor

from .. import config, diskspace
from ..errors import DatabaseError, SpxError
from . import terminal
from .units import human_bytes


def result(name, ok, detail, fix=None):
    return {"check": name, "ok": bool(ok), "detail": detail, "fix": None if ok else fix}


def run_checks(cfg, problems, terminal_timeout=terminal.PROBE_TIMEOUT):
    """[{check, ok, detail, fix}] for CFG; PROBLEMS are what ops.settings.effective found wrong
    with the configuration (values that do not parse, stored values that could not be read)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        probe = pool.submit(terminal.probe, cfg, terminal_timeout)
        checks = [configuration(cfg, problems),
                  directory(cfg, "processing.outputDirectory", "output directory"),
                  directory(cfg, "processing.tempDirectory", "temp directory"),
                  *disk_space(cfg),
                  database(cfg["database.path"])]
        return checks + terminal_checks(cfg, probe.result())


def configuration(cfg, problems):
    found = list(problems)
    if cfg["processing.startDate"] is None:
        found.append("processing.startDate is not set")
    if found:
        return result("configuration", False, "; ".join(found),
                      "spx-data config set KEY VALUE (e.g. spx-data config set processing.startDate 2024-01-02); "
                      "spx-data config validate lists every problem")
    return result("configuration", True, f"valid (start date {cfg['processing.startDate']})")


def directory(cfg, key, name):
    path = cfg[key]
    try:
        config.check(key, path)
    except SpxError as exc:
        return result(name, False, str(exc),
                      f"chmod u+w the directory, or spx-data config set {key} /a/writable/dir")
    state = "writable" if os.path.isdir(path) else "will be created"
    return result(name, True, f"{os.path.abspath(path)} ({state})")


def disk_space(cfg):
    """One check per file system the next day writes to."""
    temp_dir, out_dir = cfg["processing.tempDirectory"], cfg["processing.outputDirectory"]
    try:
        stage_bytes, file_bytes, basis = diskspace.next_day_estimate(cfg["database.path"])
    except DatabaseError:
        stage_bytes, file_bytes = diskspace.estimate([])
        basis = "the default estimate (the log is unreadable)"
    checks = []
    for path, needed, free in diskspace.requirements(temp_dir, out_dir, stage_bytes, file_bytes):
        detail = (f"{os.path.abspath(path)}: {human_bytes(free)} free, {human_bytes(needed)} needed "
                  f"(next day estimated from {basis}, + 50 %)")
        checks.append(result("disk space", free >= needed, detail,
                             "free space on that file system, or point processing.tempDirectory / "
                             "processing.outputDirectory at a bigger one (spx-data config set ...)"))
    return checks


def database(db):
    from .. import logclient
    if not os.path.exists(db):
        try:
            config.check("database.path", db)
        except SpxError as exc:
            return result("database", False, str(exc), "pass --db PATH or set SPX_DATA_DATABASE_PATH to a writable place")
        return result("database", True, f"{os.path.abspath(db)} not created yet (created on first use)")
    try:
        checked = logclient.check(db=db)
    except DatabaseError as exc:
        return result("database", False, str(exc),
                      "if it is corrupt, move it aside and restore a backup (spx-data creates an empty one, "
                      "losing the history); a newer schema needs a newer spx-data")
    return result("database", True, f"{os.path.abspath(db)}: integrity ok, schema version "
                                    f"{checked['schema_version']} of {checked['latest_schema_version']}")


_STATUS_FIX = {
    "UNVERIFIED": "the terminal's ThetaData credentials were not accepted: check the username/password it was "
                  "started with",
    "DISCONNECTED": "the terminal lost its connection to ThetaData: wait a minute, or restart the terminal",
}


def terminal_checks(cfg, probe):
    url = probe["url"]
    if not probe["reachable"]:
        fix = (f"start the Theta Terminal (or `spx-sim` for the simulator) and check thetadata.baseUrl "
               f"(now {url}; spx-data config set thetadata.baseUrl http://127.0.0.1:25510)")
        return [result("terminal", False, f"{url}: unreachable ({probe['error']})", fix),
                result("api version", False, "not detected (terminal unreachable)", "see the terminal check")]
    status = probe["mdds_status"]
    checks = [result("terminal", status == "CONNECTED", f"{url}: MDDS {status}",
                     _STATUS_FIX.get(status, "restart the Theta Terminal; its MDDS status should be CONNECTED"))]
    detected, configured = probe["api_version"], cfg["thetadata.apiVersion"]
    if detected is None:
        checks.append(result("api version", False, f"not detected ({probe['error']})",
                             "is thetadata.baseUrl a Theta Terminal? set thetadata.apiVersion to v2 or v3"))
    elif configured not in ("auto", detected):
        checks.append(result("api version", False, f"configured {configured}, but the terminal speaks {detected}",
                             f"spx-data config set thetadata.apiVersion auto (or {detected})"))
    else:
        checks.append(result("api version", True, f"{detected} (thetadata.apiVersion {configured})"))
    return checks


def text_lines(checks):
    """`ok    name  detail` per check, and `      fix: ...` under each failure."""
    width = max(len(c["check"]) for c in checks)
    out = []
    for c in checks:
        out.append(f"{'ok' if c['ok'] else 'FAIL':<4}  {c['check']:<{width}}  {c['detail']}")
        if not c["ok"]:
            out.append(f"{'':<4}  {'':<{width}}  fix: {c['fix']}")
    return out
