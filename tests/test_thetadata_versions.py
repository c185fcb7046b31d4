"""What a quick look at the terminal needs (the status paths, the transport) loads no pyarrow."""
import subprocess
import sys

from spx_data.thetadata.v2 import V2Api
from spx_data.thetadata.v3 import V3Api
from spx_data.thetadata.versions import STATUS_PATHS


def test_the_status_paths_are_the_apis_own_in_detection_order():
    assert list(STATUS_PATHS.items()) == [(V3Api.version, V3Api.status_path), (V2Api.version, V2Api.status_path)]


def test_the_status_paths_and_the_transport_load_no_pyarrow():
    code = ("import sys; import spx_data.thetadata.versions, spx_data.thetadata.transport; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyarrow', 'numpy')))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"
