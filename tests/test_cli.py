"""The shared command wrapper and the NDJSON codec: behaviour every command inherits."""
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from spx_data import ndjson
from spx_data.errors import SchemaValidationError

LIB = os.path.join(os.path.dirname(__file__), os.pardir, "lib")


def run_script(body, *argv, env=None, **kwargs):
    """Run a tiny command built on spx_data.cli.run in a real interpreter."""
    script = textwrap.dedent('''
        """Usage:
          demo [--fail=KIND] [--count=N]
        """
        import sys
        sys.path.insert(0, %r)
        from spx_data.cli import run
        from spx_data import errors
    ''' % LIB) + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, **kwargs)


def test_dumps_keeps_slashes_and_order_and_refuses_nan():
    assert ndjson.dumps({"b": "a/b", "a": 1}) == '{"b":"a/b","a":1}'
    with pytest.raises(SchemaValidationError):
        ndjson.dumps({"x": float("nan")})


@pytest.mark.parametrize("line, reason", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"x": NaN}', "NaN or Infinity"),
    ('{"x": 1e999}', "NaN or Infinity"),
])
def test_parse_line_names_the_line(line, reason):
    with pytest.raises(SchemaValidationError) as err:
        ndjson.parse_line(line, 7, "input.ndjson")
    assert str(err.value).startswith("input.ndjson:7: ") and reason in str(err.value)


def test_read_skips_blank_lines_and_counts_them():
    records = list(ndjson.read(['{"a":1}\n', "\n", '{"a":2}\n']))
    assert records == [(1, {"a": 1}), (3, {"a": 2})]


def test_usage_error_exits_2_with_usage_on_stderr():
    result = run_script('run("demo", __doc__, lambda a: 0)', "--nope")
    assert result.returncode == 2
    assert "Usage:" in result.stderr and result.stdout == ""


def test_help_is_the_usage_string():
    result = run_script('run("demo", __doc__, lambda a: 0)', "--help")
    assert result.returncode == 0 and "demo [--fail=KIND]" in result.stdout


def test_spx_error_is_one_line_with_its_exit_code_and_error_file(tmp_path):
    error_file = tmp_path / "err.json"
    body = '''
        def handler(args):
            raise errors.DatabaseSchemaError("database is from a newer version\\nsecond line")
        run("demo", __doc__, handler)
    '''
    result = run_script(body, env={"SPX_DATA_ERROR_FILE": str(error_file)})
    assert result.returncode == 3
    assert result.stderr == "demo: database is from a newer version\n"
    assert ndjson.parse_line(error_file.read_text())["error_type"] == "DatabaseSchema"


def test_unexpected_exception_prints_no_traceback_unless_debug():
    body = '''
        def handler(args):
            raise KeyError("boom")
        run("demo", __doc__, handler)
    '''
    quiet = run_script(body)
    assert quiet.returncode == 1
    assert quiet.stderr.count("\n") == 1 and "Traceback" not in quiet.stderr
    loud = run_script(body, env={"SPX_DATA_DEBUG": "1"})
    assert "Traceback" in loud.stderr


def test_closed_stdout_ends_quietly():
    cmd = textwrap.dedent('''
        import sys
        sys.path.insert(0, %r)
        from spx_data.cli import run
        def handler(args):
            for i in range(10**6):
                print(i)
        run("demo", "Usage:\\n  demo\\n", handler)
    ''' % LIB)
    pipeline = subprocess.run(["bash", "-c", f'set -o pipefail; "{sys.executable}" -c "$0" | head -1', cmd],
                              capture_output=True, text=True)
    assert pipeline.stdout == "0\n"
    assert pipeline.stderr == ""
    assert pipeline.returncode == 128 + signal.SIGPIPE


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signals_run_cleanup_and_exit_128_plus_signal(tmp_path, signum):
    marker = tmp_path / "cleaned"
    body = f'''
        import time
        def handler(args):
            try:
                print("ready", flush=True)
                time.sleep(30)
            finally:
                open({str(marker)!r}, "w").write("yes")
        run("demo", __doc__, handler)
    '''
    script = textwrap.dedent('''
        """Usage:
          demo
        """
        import sys
        sys.path.insert(0, %r)
        from spx_data.cli import run
    ''' % LIB) + textwrap.dedent(body)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "ready\n"
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 128 + signum
    assert marker.read_text() == "yes"
    assert err == "demo: interrupted\n"


@pytest.mark.parametrize("text, low, high, message", [
    ("0", 1, None, "--n must be a whole number of at least 1, not '0'"),
    ("x", 1, None, "--n must be a whole number of at least 1, not 'x'"),
    ("65", 1, 64, "--n must be a whole number from 1 to 64, not '65'"),
])
def test_whole_number_refuses_with_a_usage_error(text, low, high, message):
    from spx_data.cli import whole_number
    from spx_data.errors import UsageError
    with pytest.raises(UsageError) as err:
        whole_number(text, "--n", low, high)
    assert str(err.value) == message


def test_whole_number_passes_values_and_absence():
    from spx_data.cli import whole_number
    assert whole_number("64", "--n", 1, 64) == 64
    assert whole_number(None, "--n") is None
