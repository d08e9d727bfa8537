"""Helpers for the end-to-end tests: run the rewardkit binary, parse its
JSONL output. The binary path is the first command-line argument."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

BIN = None


def run(args, stdin=b"", check_code=0):
    """Runs rewardkit with args; returns (code, stdout bytes, stderr text)."""
    p = subprocess.run([BIN] + args, input=stdin, capture_output=True, timeout=300)
    if check_code is not None and p.returncode != check_code:
        raise AssertionError(
            f"rewardkit {' '.join(args)} exited {p.returncode}, expected {check_code}\n"
            f"stderr: {p.stderr.decode(errors='replace')}")
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def jsonl(data):
    return [json.loads(l) for l in data.decode().splitlines() if l.strip()]


def lines(records):
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def score(records_or_bytes, args, check_code=0):
    """Scores records (list of dicts, or raw bytes); returns output records."""
    data = records_or_bytes if isinstance(records_or_bytes, bytes) else lines(records_or_bytes)
    _, out, _ = run(["score", "--quiet"] + args, data, check_code)
    return jsonl(out)


def spec_file(spec):
    f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump(spec, f)
    f.close()
    return f.name


def score_spec(records, spec, extra=()):
    path = spec_file(spec)
    try:
        return score(records, ["--spec", path] + list(extra))
    finally:
        os.unlink(path)


def main():
    global BIN
    if len(sys.argv) < 2:
        sys.exit("usage: test_x.py PATH_TO_REWARDKIT")
    BIN = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=1)
