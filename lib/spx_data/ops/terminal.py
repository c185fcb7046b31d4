"""A quick look at the Theta Terminal for status, health and retry: reachable? MDDS status? which
API version? One attempt per path, short timeouts, no retries — a report, not a download.

Detection is the client's (spx_data.thetadata): the v3 status path first, then v2's; 200 tells the
version and carries the MDDS status (CONNECTED, UNVERIFIED, DISCONNECTED, ERROR); 410 on the v2
path means a v3-only terminal. It is independent of thetadata.apiVersion, so health can say when
the configured version is not the one the terminal speaks.

The probe takes no machine-wide request slot: it is two tiny requests, and status must answer
while a run keeps every slot busy (a terminal short of threads answers 429, which is reported).
"""
from contextlib import contextmanager

from ..errors import ThetaDataError

PROBE_TIMEOUT = 1.0  # seconds to connect, and to read the status line


class _NoSlots:
    @contextmanager
    def hold(self, cancel=None):
        yield


def probe(cfg, timeout=PROBE_TIMEOUT):
    """{url, reachable, mdds_status, api_version, error} of the terminal at thetadata.baseUrl."""
    from ..thetadata.errors import describe
    from ..thetadata.transport import Transport
    from ..thetadata.versions import STATUS_PATHS   # not v2/v3: they load pyarrow (0.4 s)
    url = cfg["thetadata.baseUrl"]
    found = {"url": url, "reachable": False, "mdds_status": None, "api_version": None, "error": None}
    transport = Transport(url, _NoSlots(), connect_timeout=timeout, read_timeout=timeout)
    problems = []
    try:
        for version, path in STATUS_PATHS.items():
            reply = transport.get(path)
            found["reachable"] = True
            if reply.status == 200:
                status = reply.body.decode("utf-8", "replace").strip().strip('"')
                found.update(mdds_status=status or "(empty)", api_version=version)
                break
            if version == "v2" and reply.status == 410:
                found["api_version"] = "v3"  # a v3-only terminal, whose status path failed above
            problems.append(f"{path}: HTTP {describe(reply.status)}")
    except ThetaDataError as exc:
        problems.append(str(exc))
    if found["mdds_status"] is None:
        found["error"] = "; ".join(problems)
    return found
