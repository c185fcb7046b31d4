"""make bench — speed and memory of spx-data on the built-in simulator, in one run.

Usage:
  bench/run.py [options]

Options:
  --day DATE             the trading day [default: 2024-01-02]
  --preset NAME          simulator preset of the day runs: full (61 expirations, 9.6M rows) or
                         small (a quick check of the bench itself) [default: full]
  --formats LIST         API formats to run, of v3-csv (the default configuration), v3-ndjson,
                         v2-csv, v2-json [default: v3-csv,v2-csv,v2-json]
  --saturation-days N    trading days of the saturation run, all at once (xargs -P N style)
                         [default: 4]
  --latency-ms MS        added terminal latency in the saturation run [default: 40]
  --bandwidth BPS        terminal bandwidth (bytes/s) in the saturation run [default: 12000000]
  --cache-mb MB          simulator memory for generated rows and encoded bodies [default: 6144]
  --repeat N             runs of each latency measurement [default: 5]
  --out DIR              where results.json and results.md go [default: bench/results]
  --keep                 keep the scratch directory (data, stage, logs) for a look afterwards
  -h --help              show this help

What it measures (every number in one run, on this machine, at the load it had; the load
averages before and after are part of the results):
 1. `spx-data process DAY` end to end and per stage (fetch with the conversion alongside, what
    is left of the conversion after it, seal: from the fetch_seconds/convert_seconds/
    seal_seconds metrics the pipeline logs) for each format:
    rows/s, MB/s, wall and CPU seconds. The simulator's caches are warmed first with the same
    requests, so the terminal costs (almost) nothing and spx-data is what is measured; the cold
    generation cost of the simulator is reported beside.
 2. Peak RSS of every process of the pipeline (each reports its own ru_maxrss through
    bench/probe.py shims), and whether it grows with the number of expirations (the day's 10
    largest against all of them) or with the number of days (per day of a multi-day run).
 3. The naive reference (bench/naive.py) on the same day; the ratio spx-data / naive.
 4. Request-slot saturation: a multi-day `spx-data process-range --parallel N` over N days of the
    full chain at 10-minute bars (so that a run takes a minute, not an hour) against a simulator
    with added latency and a bandwidth cap, so that the terminal is the slow part: in-flight
    request seconds / (slots x the time from the first request to the last reply), from the
    simulator's own accounting.
 5. Latency of `spx-data gaps` over ten years of fabricated sealed days, `status`, `health`
    and `config get` (median of --repeat runs; the first gaps call, before its cache, too).
"""
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "lib"))
sys.path.insert(0, str(REPO / "bench"))

import probe  # noqa: E402  (after the path set-up)
import requests  # noqa: E402
from docopt import docopt  # noqa: E402

FORMATS = {"v3-csv": ("v3", "csv"), "v3-ndjson": ("v3", "ndjson"), "v2-csv": ("v2", "csv"), "v2-json": ("v2", "json")}
DEFAULT_FORMAT = "v3-csv"
SLOTS = 4                       # thetadata.maxConcurrentRequests, the default
SATURATION_INTERVAL_MS = 600_000   # 10-minute bars: the whole chain, a tenth of the bytes
TARGETS = {"rows_per_s": 150_000, "naive_ratio": 2.5, "rss_mb": 300, "slots_busy": 0.95,
           "gaps_s": 0.5, "status_s": 0.5, "config_s": 0.3}
PIPELINE_TOOLS = ("spx-data", "spx-expirations", "spx-fetch", "spx-ndjson2parquet", "spx-seal", "spx-log")


def say(text):
    print(f"bench: {text}", file=sys.stderr, flush=True)


# -- the machine ------------------------------------------------------------------------------
def machine():
    def first(path, prefix):
        try:
            with open(path, encoding="utf-8") as handle:
                return next((line.split(":", 1)[1].strip() for line in handle if line.startswith(prefix)), None)
        except OSError:
            return None
    import pyarrow
    memory = first("/proc/meminfo", "MemTotal")
    commit = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"], capture_output=True,
                            text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu": first("/proc/cpuinfo", "model name") or platform.processor(),
            "ram_gb": round(int(memory.split()[0]) / 1024 ** 2, 1) if memory else None,
            "os": platform.platform(), "python": platform.python_version(), "pyarrow": pyarrow.__version__,
            "commit": commit or None}


def load():
    return [round(x, 2) for x in os.getloadavg()]


# -- the simulator ----------------------------------------------------------------------------
class Sim:
    """An spx-sim process on a free loopback port."""

    def __init__(self, workdir, *flags):
        port_file = Path(workdir) / f"sim-{len(list(Path(workdir).glob('sim-*')))}.port"
        self.stderr = open(port_file.with_suffix(".err"), "wb")
        self.proc = subprocess.Popen([sys.executable, str(REPO / "bin" / "spx-sim"), "--port", "0",
                                      "--port-file", str(port_file), *flags],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.stderr)
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"spx-sim did not start (see {self.stderr.name})")
            time.sleep(0.05)
        self.base_url = f"http://127.0.0.1:{int(port_file.read_text())}"
        self.session = requests.Session()

    def stats(self):
        return self.session.get(self.base_url + "/sim/stats", timeout=30).json()

    def reset_stats(self):
        self.session.get(self.base_url + "/sim/reset-stats", timeout=30).raise_for_status()

    def cpu_seconds(self):
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self):
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.stderr.close()


# -- an isolated spx-data world ----------------------------------------------------------------
class World:
    """Its own database, output, stage and lock directories; commands run through the probes."""

    def __init__(self, root, shims, base_url, api_version="v3", response_format="csv", **settings):
        self.root = Path(root)
        self.root.mkdir(parents=True)
        self.data = self.root / "data"
        self.probe_log = self.root / "probe.ndjson"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPX_DATA_")}
        env.update({
            "SPX_DATA_DATABASE_PATH": str(self.data / "spx-pipeline.db"),
            "SPX_DATA_PROCESSING_OUTPUTDIRECTORY": str(self.data / "parquet"),
            "SPX_DATA_PROCESSING_TEMPDIRECTORY": str(self.data / "temp"),
            "SPX_DATA_LOCK_DIR": str(self.root / "slots"),
            "SPX_DATA_THETADATA_BASEURL": base_url,
            "SPX_DATA_THETADATA_APIVERSION": api_version,
            "SPX_DATA_THETADATA_RESPONSEFORMAT": response_format,
            "SPX_DATA_THETADATA_MAXCONCURRENTREQUESTS": str(SLOTS),
            probe.LOG_ENV: str(self.probe_log),
            "PATH": os.pathsep.join([shims, str(REPO / "bin"), str(Path(sys.executable).parent), os.environ["PATH"]]),
        })
        env.update({f"SPX_DATA_{key.upper()}": str(value) for key, value in settings.items()})
        self.env = env

    def run(self, *argv, stdin=None, check=True):
        """(stdout, seconds) of one command; stdin: bytes or None."""
        started = time.monotonic()
        result = subprocess.run(list(argv), input=stdin, capture_output=True, env=self.env, cwd=self.root)
        seconds = time.monotonic() - started
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(map(str, argv))} exited {result.returncode}: "
                               f"{result.stderr.decode(errors='replace')[-2000:]}")
        return result.stdout.decode(), seconds

    def records(self, *argv):
        return [json.loads(line) for line in self.run(*argv)[0].splitlines() if line.strip()]

    def take_reports(self):
        """The probe reports since the last call."""
        reports = probe.read_log(self.probe_log)
        self.probe_log.unlink(missing_ok=True)
        return reports


def per_tool(reports):
    """{tool: {"processes", "rss_mb" (the largest), "cpu_s" (all together)}}."""
    tools = {}
    for report in reports:
        entry = tools.setdefault(report["tool"], {"processes": 0, "rss_mb": 0.0, "cpu_s": 0.0})
        entry["processes"] += 1
        entry["rss_mb"] = max(entry["rss_mb"], report["rss_mb"])
        entry["cpu_s"] = round(entry["cpu_s"] + report["user_s"] + report["sys_s"], 3)
    return tools


# -- 1, 2: the day through spx-data, per format --------------------------------------------------
def warm(sim, api_version, response_format, day, expirations):
    """Ask the simulator once for every greeks reply the run will ask for, so that it has them
    generated and encoded; returns the simulator CPU seconds that took (its cold cost)."""
    from spx_data.thetadata.v2 import V2Api
    from spx_data.thetadata.v3 import V3Api
    api = {"v2": V2Api, "v3": V3Api}[api_version](response_format, 60000)
    requests_ = [api.greeks_request(dt.date.fromisoformat(day), e["root"], dt.date.fromisoformat(e["expiration"]))
                 for e in expirations]
    before = sim.cpu_seconds()

    def get(request):
        path, params = request
        with requests.get(sim.base_url + path, params=params, stream=True, timeout=600) as response:
            for _ in response.iter_content(1 << 20):
                pass
    with ThreadPoolExecutor(SLOTS) as pool:
        list(pool.map(get, requests_))
    return round(sim.cpu_seconds() - before, 2)


def metrics_of(world, day):
    return {m["metric_name"]: m["metric_value"] for m in world.records("spx-log", "query", "metrics", "--date", day)}


def day_run(sim, shims, scratch, name, day):
    api_version, response_format = FORMATS[name]
    world = World(scratch / name, shims, sim.base_url, api_version, response_format)
    expirations = world.records("spx-expirations", day)
    say(f"{name}: warming the simulator ({len(expirations)} expirations)")
    cold_cpu = warm(sim, api_version, response_format, day, expirations)
    world.take_reports()
    sim.reset_stats()
    sim_cpu, load_before = sim.cpu_seconds(), load()
    say(f"{name}: spx-data process {day}")
    out, wall = world.run("spx-data", "process", "--quiet", "--events", day)
    terminal = sim.stats()
    events = [json.loads(line) for line in out.splitlines() if line.strip()]
    tools = per_tool(world.take_reports())
    metrics = metrics_of(world, day)
    row = world.records("spx-log", "query", "processing", "--date", day)[-1]
    rows, file_bytes = row["record_count"], row["file_size_bytes"]
    # The stage at its largest holds the NDJSON, its typed copies and day.parquet; the converter
    # reads the first two (the NDJSON for its CRC only) and writes the third.
    stage_bytes = (row.get("temp_file_size_bytes") or 0) - file_bytes
    cpu = sum(t["cpu_s"] for tool, t in tools.items() if tool in PIPELINE_TOOLS)

    def stage(seconds, megabytes, what):
        return {"seconds": round(seconds, 2), "rows_per_s": round(rows / seconds), "mb_per_s": round(megabytes / seconds, 1),
                "mb": round(megabytes, 1), "mb_of": what}
    return {
        "api_version": api_version, "format": response_format, "rows": rows, "expirations": row["expiration_count"],
        "wall_s": round(wall, 2), "rows_per_s": round(rows / wall), "mb_per_s": round(terminal["bytes_sent"] / 1e6 / wall, 1),
        "cpu_s": round(cpu, 2), "rows_per_cpu_s": round(rows / cpu), "file_mb": round(file_bytes / 1e6, 1),
        "load_before": load_before, "load_after": load(),
        "stages": {
            # The converter follows the fetch: most of it runs inside fetch_seconds, and
            # convert_seconds is what is left of it once the last expiration is staged.
            "fetch": stage(metrics["fetch_seconds"], terminal["bytes_sent"] / 1e6,
                           "terminal replies (the conversion runs alongside)"),
            "ndjson2parquet": {"seconds_after_fetch": round(metrics["convert_seconds"], 2),
                               "stage_mb": round(stage_bytes / 1e6, 1)},
            "seal": stage(metrics["seal_seconds"], file_bytes / 1e6, "Parquet verified"),
        },
        "processes": tools,
        "memory_peak_mb_logged": metrics.get("memory_peak_mb"),
        "terminal": {"mb_sent": round(terminal["bytes_sent"] / 1e6, 1), "requests": terminal["data_requests"],
                     "cpu_s_warm": round(sim.cpu_seconds() - sim_cpu, 2), "cpu_s_cold": cold_cpu},
        "expiration_rows": {f"{e['root']} {e['expiration']}": e["rows"] for e in events
                            if e.get("event") == "expiration_done"},
    }


def naive_run(sim, shims, scratch, day, expirations):
    world = World(scratch / "naive", shims, sim.base_url, "v2", "json")
    cold_cpu = warm(sim, "v2", "json", day, expirations)
    say("naive: bench/naive.py")
    load_before = load()
    out, wall = world.run(sys.executable, str(REPO / "bench" / "probe.py"), str(REPO / "bench" / "naive.py"),
                          sim.base_url, day, str(world.root / "naive.parquet"))
    report = per_tool(world.take_reports())["naive.py"]
    rows = int(out.split()[-1])
    return {"rows": rows, "wall_s": round(wall, 2), "rows_per_s": round(rows / wall), "cpu_s": report["cpu_s"],
            "rows_per_cpu_s": round(rows / report["cpu_s"]), "rss_mb": report["rss_mb"],
            "load_before": load_before, "load_after": load(), "terminal_cpu_s_cold": cold_cpu}


def expirations_growth(sim, shims, scratch, day, full):
    """The stages run by hand on the day's 10 largest expirations, against the whole day."""
    sizes = full["expiration_rows"]
    largest = sorted(sizes, key=sizes.get, reverse=True)[:10]
    world = World(scratch / "largest-10", shims, sim.base_url, full["api_version"], full["format"])
    lines = "".join(json.dumps({"date": day, "root": key.split()[0], "expiration": key.split()[1]}) + "\n"
                    for key in largest)
    stage = world.root / "stage"
    say("growth: the 10 largest expirations through spx-fetch, spx-ndjson2parquet, spx-seal")
    world.run("spx-fetch", "--stage", str(stage), stdin=lines.encode())
    world.run("spx-ndjson2parquet", *sorted(map(str, stage.glob("*.ndjson"))), "-o", str(stage / "day.parquet"),
              "--date", day)
    final = world.data / "parquet" / day[:4] / day[5:7] / day[8:10] / f"spx-options-{day}.parquet"
    world.run("spx-seal", str(stage / "day.parquet"), str(final))
    tools = per_tool(world.take_reports())
    return {"expirations": len(largest), "rows": sum(sizes[k] for k in largest),
            "rss_mb": {tool: tools[tool]["rss_mb"] for tool in ("spx-fetch", "spx-ndjson2parquet", "spx-seal")},
            "full_day": {"expirations": len(sizes), "rows": sum(sizes.values()),
                         "rss_mb": {tool: full["processes"][tool]["rss_mb"]
                                    for tool in ("spx-fetch", "spx-ndjson2parquet", "spx-seal")}}}


# -- 4: request slots with a slow terminal ------------------------------------------------------
def saturation_run(shims, scratch, day, days, latency_ms, bandwidth):
    from spx_data import calendar
    last = dt.date.fromisoformat(day)
    trading = calendar.trading_days(last - dt.timedelta(days=3 * days + 10), last)[-days:]
    sim = Sim(scratch, "--preset", "full", "--latency-ms", str(latency_ms), "--bandwidth", str(bandwidth))
    try:
        world = World(scratch / "saturation", shims, sim.base_url, PROCESSING_INTERVALMS=SATURATION_INTERVAL_MS)
        sim.reset_stats()
        say(f"saturation: spx-data process-range --parallel {days} over {days} days, terminal at {latency_ms} ms "
            f"+ {bandwidth / 1e6:g} MB/s")
        _, wall = world.run("spx-data", "process-range", "--quiet", "--parallel", str(days),
                            trading[0].isoformat(), trading[-1].isoformat())
        stats = sim.stats()
    finally:
        sim.stop()
    reports = world.take_reports()
    by_day = {}
    for report in reports:
        found = re.search(r"\d{4}-\d{2}-\d{2}", " ".join(report["argv"]))
        if found and report["tool"] in PIPELINE_TOOLS and "process-range" not in report["argv"]:
            entry = by_day.setdefault(found.group(0), {})
            entry[report["tool"]] = max(entry.get(report["tool"], 0), report["rss_mb"])
    busy = stats["in_flight_seconds"]
    return {"days": days, "first": trading[0].isoformat(), "last": trading[-1].isoformat(), "preset": "full",
            "interval_ms": SATURATION_INTERVAL_MS, "latency_ms": latency_ms, "bandwidth_mb_s": bandwidth / 1e6,
            "slots": SLOTS, "wall_s": round(wall, 2), "mb": round(stats["bytes_sent"] / 1e6, 1),
            "terminal_busy_s": round(stats["busy_span_seconds"], 2), "in_flight_s": round(busy, 2),
            "slots_busy": round(busy / (SLOTS * stats["busy_span_seconds"]), 4),
            "slots_busy_of_wall": round(busy / (SLOTS * wall), 4), "max_in_flight": stats["max_in_flight"],
            "rss_mb_by_day": dict(sorted(by_day.items())),
            "batch_rss_mb": max(r["rss_mb"] for r in reports if r["tool"] == "spx-data" and "process-range" in r["argv"])}


# -- 5: interactive commands over ten years ----------------------------------------------------
def latency_run(sim, shims, scratch, repeat):
    from spx_data import calendar, integrity, layout
    last = calendar.last_completed_session()    # gaps looks up to here
    days = calendar.trading_days(last.replace(year=last.year - 10), last)
    world = World(scratch / "ten-years", shims, sim.base_url, PROCESSING_STARTDATE=days[0].isoformat())
    out_dir = world.data / "parquet"
    events = []
    for index, day_ in enumerate(days):
        if index % 50 == 7:
            continue                      # a gap now and then, as in real life
        final = layout.final_path(out_dir, day_)
        final.parent.mkdir(parents=True, exist_ok=True)
        final.write_bytes(f"placeholder for {day_}\n".encode())
        checksum = integrity.sha256_file(final)
        layout.sidecar_path(final).write_text(integrity.sidecar_text(final, checksum))
        events.append({"event": "succeeded", "date": day_.isoformat(), "record_count": 9_618_180,
                       "expiration_count": 61, "file_size_bytes": final.stat().st_size, "checksum": checksum})
    world.run("spx-log", "record", stdin="".join(json.dumps(e) + "\n" for e in events).encode())
    say(f"latency: gaps over {len(days)} trading days, status, health, config get")

    def timed(*argv):
        return [round(world.run(*argv, check=False)[1], 3) for _ in range(repeat)]
    first_gaps = round(world.run("spx-data", "gaps")[1], 3)
    runs = {"gaps": timed("spx-data", "gaps"), "status": timed("spx-data", "status"),
            "health": timed("spx-data", "health"), "config get": timed("spx-data", "config", "get")}
    gaps_found = len(world.run("spx-gaps")[0].split())
    return {"trading_days": len(days), "sealed_days": len(events), "gaps_found": gaps_found,
            "gaps_first_s": first_gaps,
            "commands": {name: {"median_s": statistics.median(times), "max_s": max(times), "runs": times}
                         for name, times in runs.items()}}


# -- the verdict --------------------------------------------------------------------------------
def verdicts(results):
    default = results["formats"].get(DEFAULT_FORMAT)
    checks = []

    def check(name, measured, target, met):
        checks.append({"target": name, "measured": measured, "goal": target, "met": bool(met)})
    if default:
        check("full day end to end, default configuration (v3 CSV)", f"{default['rows_per_s']:,} rows/s",
              f">= {TARGETS['rows_per_s']:,} rows/s", default["rows_per_s"] >= TARGETS["rows_per_s"])
    naive = results.get("naive")
    if naive and "v2-json" in results["formats"]:
        ratio = results["formats"]["v2-json"]["rows_per_s"] / naive["rows_per_s"]
        check("spx-data / naive, same day and format (v2 JSON), wall", f"{ratio:.2f}x",
              f">= {TARGETS['naive_ratio']}x", ratio >= TARGETS["naive_ratio"])
    if naive and default:
        ratio = default["rows_per_s"] / naive["rows_per_s"]
        check("spx-data default / naive, wall", f"{ratio:.2f}x", f">= {TARGETS['naive_ratio']}x",
              ratio >= TARGETS["naive_ratio"])
        # The same per CPU-second: what the ratio is on a machine whose cores are all taken.
        ratio = default["rows_per_cpu_s"] / naive["rows_per_cpu_s"]
        check("spx-data default / naive, per CPU-second", f"{ratio:.2f}x", f">= {TARGETS['naive_ratio']}x",
              ratio >= TARGETS["naive_ratio"])
    peaks = {tool: max(f["processes"][tool]["rss_mb"] for f in results["formats"].values() if tool in f["processes"])
             for tool in PIPELINE_TOOLS if any(tool in f["processes"] for f in results["formats"].values())}
    if peaks:
        worst = max(peaks, key=peaks.get)
        check("peak RSS of each pipeline process", f"{peaks[worst]:.0f} MB ({worst})", f"<= {TARGETS['rss_mb']} MB",
              peaks[worst] <= TARGETS["rss_mb"])
    growth = results.get("memory_growth")
    if growth:
        ratios = {tool: growth["full_day"]["rss_mb"][tool] / growth["rss_mb"][tool] for tool in growth["rss_mb"]}
        worst = max(ratios, key=ratios.get)
        rows = growth["full_day"]["rows"] / growth["rows"]
        # A process that held the day would grow with its rows; one that holds an expiration at a
        # time stays put, give or take the allocator and which replies happened to overlap.
        check(f"RSS flat: all {growth['full_day']['expirations']} expirations / the 10 largest "
              f"({rows:.1f}x the rows)", f"{ratios[worst]:.2f}x ({worst})", "<= 1.25x", ratios[worst] <= 1.25)
    saturation = results.get("saturation")
    if saturation:
        check("request slots busy, terminal the slow part", f"{saturation['slots_busy']:.1%}",
              f">= {TARGETS['slots_busy']:.0%}", saturation["slots_busy"] >= TARGETS["slots_busy"])
    latency = results.get("latency")
    if latency:
        commands = latency["commands"]
        for name, key in (("gaps", "gaps_s"), ("status", "status_s"), ("config get", "config_s")):
            median = commands[name]["median_s"]
            check(f"`spx-data {name}`" + (" over ten years" if name == "gaps" else ""), f"{median:.3f} s",
                  f"< {TARGETS[key]} s", median < TARGETS[key])
    return checks


def markdown(results):
    m = results["machine"]
    lines = [f"spx-data benchmark, {results['started'][:16]}: {m['nproc']} cores ({m['cpu']}), {m['ram_gb']} GB RAM, "
             f"Python {m['python']}, pyarrow {m['pyarrow']}, commit {m['commit']}; load average "
             f"{results['load_before'][0]} before, {results['load_after'][0]} after; {results['duration_s']:.0f} s.",
             "", "| target | measured | goal | met |", "|---|---|---|---|"]
    lines += [f"| {c['target']} | {c['measured']} | {c['goal']} | {'yes' if c['met'] else '**no**'} |"
              for c in results["targets"]]
    lines += ["", f"Day {results['day']} ({results['preset']} preset), simulator warmed:", "",
              "| format | rows | wall s | rows/s | CPU s | rows/CPU-s | fetch and conversion alongside rows/s (MB/s) "
              "| conversion after the fetch s | seal rows/s (MB/s) | peak RSS MB fetch / convert / seal / process |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    rows = dict(results["formats"])
    for name, f in rows.items():
        s, p = f["stages"], f["processes"]
        stage = lambda k: f"{s[k]['rows_per_s']:,} ({s[k]['mb_per_s']})"   # noqa: E731
        rss = " / ".join(f"{p[t]['rss_mb']:.0f}" for t in ("spx-fetch", "spx-ndjson2parquet", "spx-seal", "spx-data"))
        lines.append(f"| {name} | {f['rows']:,} | {f['wall_s']} | {f['rows_per_s']:,} | {f['cpu_s']} | "
                     f"{f['rows_per_cpu_s']:,} | {stage('fetch')} | {s['ndjson2parquet']['seconds_after_fetch']} | "
                     f"{stage('seal')} | {rss} |")
    naive = results.get("naive")
    if naive:
        lines.append(f"| naive (v2 JSON) | {naive['rows']:,} | {naive['wall_s']} | {naive['rows_per_s']:,} | "
                     f"{naive['cpu_s']} | {naive['rows_per_cpu_s']:,} | | | | {naive['rss_mb']:.0f} (one process) |")
    saturation = results.get("saturation")
    if saturation:
        lines += ["", f"Saturation: process-range --parallel {saturation['days']} over {saturation['days']} days "
                      f"({saturation['preset']} chain, {saturation['interval_ms'] // 60000}-minute bars, "
                      f"{saturation['mb']} MB), terminal {saturation['latency_ms']} ms + {saturation['bandwidth_mb_s']:g} MB/s, "
                      f"{saturation['slots']} slots: {saturation['slots_busy']:.1%} busy while the terminal worked "
                      f"({saturation['slots_busy_of_wall']:.1%} of the whole {saturation['wall_s']} s)."]
    latency = results.get("latency")
    if latency:
        c = latency["commands"]
        lines += ["", f"Latency ({latency['trading_days']} trading days, {latency['gaps_found']} gaps), median of "
                      f"{len(c['gaps']['runs'])}: " + ", ".join(f"{k} {v['median_s']:.3f} s" for k, v in c.items())
                  + f"; first gaps call (no cache) {latency['gaps_first_s']:.3f} s."]
    return "\n".join(lines) + "\n"


def main():
    # SIGTERM (make stopped, a CI timeout) unwinds like Ctrl-C: the simulators are stopped and
    # the scratch directory removed on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    args = docopt(__doc__)
    day, preset = args["--day"], args["--preset"]
    names = [n.strip() for n in args["--formats"].split(",") if n.strip()]
    unknown = [n for n in names if n not in FORMATS]
    if unknown:
        raise SystemExit(f"bench: unknown format(s) {', '.join(unknown)}; expected some of {', '.join(FORMATS)}")
    out_dir = (REPO / args["--out"]) if not os.path.isabs(args["--out"]) else Path(args["--out"])
    out_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="spx-bench-"))
    try:
        run_all(args, day, preset, names, out_dir, scratch)
    finally:
        if args["--keep"]:
            say(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def run_all(args, day, preset, names, out_dir, scratch):
    shims = probe.make_shims(str(scratch / "bin"))
    started = time.monotonic()
    results = {"started": dt.datetime.now().isoformat(timespec="seconds"), "machine": machine(), "day": day,
               "preset": preset, "load_before": load(), "formats": {}}
    say(f"scratch directory {scratch}; load average {results['load_before']}")
    sim = Sim(scratch, "--preset", preset, "--cache-mb", args["--cache-mb"])
    try:
        for name in names:
            results["formats"][name] = day_run(sim, shims, scratch, name, day)
        reference = results["formats"][names[0]]
        expirations = [{"root": k.split()[0], "expiration": k.split()[1]} for k in reference["expiration_rows"]]
        results["naive"] = naive_run(sim, shims, scratch, day, expirations)
        results["memory_growth"] = expirations_growth(sim, shims, scratch, day, results["formats"][names[0]])
        results["latency"] = latency_run(sim, shims, scratch, int(args["--repeat"]))
        results["terminal_rss_mb"] = round(sim.rss_mb())
    finally:
        sim.stop()
    results["saturation"] = saturation_run(shims, scratch, day, int(args["--saturation-days"]),
                                           int(args["--latency-ms"]), int(args["--bandwidth"]))
    results["load_after"] = load()
    results["duration_s"] = round(time.monotonic() - started, 1)
    results["targets"] = verdicts(results)
    (out_dir / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    table = markdown(results)
    (out_dir / "results.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
