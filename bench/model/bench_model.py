"""Benchmark of the model-reward client (issue 8): the judge reward with
256 requests in flight, rewardkit against the Python way (asyncio +
aiohttp, bench/model/baseline_judge.py), in the same run, on two servers:

  1. nginx answering every POST with a canned vLLM chat completion: a
     server far faster than a model, so the client's own cost shows. The
     figure is the client's CPU time per call (target <= 50 us).
  2. the deterministic test peer (tests/peer/lm_peer.py, vLLM formats):
     a slow server; rewardkit should wait on it, not the reverse (its CPU
     share stays low while records/s equals what the server gives).

usage: /usr/bin/python3 bench/model/bench_model.py build/rewardkit [N]
Needs nginx-light and python3-aiohttp (scripts/deps.sh bench)."""
import json
import math
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TEMPLATE = "Question: {prompt}\nResponse: {response}\nIs the response correct? Answer Yes or No."
CANNED = {
    "id": "x", "object": "chat.completion", "created": 0, "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Yes"},
                 "logprobs": {"content": [{"token": "Yes", "logprob": -0.1, "bytes": [89, 101, 115],
                                           "top_logprobs": [
                                               {"token": "Yes", "logprob": -0.1, "bytes": None},
                                               {"token": "No", "logprob": -2.5, "bytes": None},
                                               {"token": " yes", "logprob": -3.0, "bytes": None},
                                               {"token": "The", "logprob": -9.0, "bytes": None}]}]},
                 "finish_reason": "length"}],
    "usage": {"prompt_tokens": 30, "completion_tokens": 1, "total_tokens": 31}}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start_nginx(d):
    port = free_port()
    body = json.dumps(CANNED).replace("'", "\\'")
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 1;
daemon off;
error_log {d}/error.log;
pid {d}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {d};
  proxy_temp_path {d}; fastcgi_temp_path {d}; uwsgi_temp_path {d}; scgi_temp_path {d};
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  server {{
    listen 127.0.0.1:{port};
    client_max_body_size 1m;
    location / {{ default_type application/json; return 200 '{body}'; }}
  }}
}}
""")
    p = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-c", conf, "-p", d],
                         stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return p, port
        except OSError:
            time.sleep(0.05)
    raise SystemExit("nginx did not start")


def start_peer():
    p = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests/peer/lm_peer.py"),
                          "--kind", "vllm", "--port", "0"], stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline().split()
    return p, int(line[1])


def timed(cmd, stdin=None):
    """Runs cmd; returns (wall s, child CPU s, stdout)."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, stdin=stdin, capture_output=True, check=True).stdout
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return wall, cpu, out


def run_pair(rk, port, recs_path, n, d, label):
    spec = {"reward": {"fn": "judge", "args": {
        "url": f"http://127.0.0.1:{port}", "model": "m", "template": TEMPLATE,
        "concurrency": 256, "cache": False, "timeout_ms": 60000}}}
    spec_path = os.path.join(d, "spec.json")
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    summ = os.path.join(d, "summary.json")
    with open(recs_path) as f:
        wall, cpu, out = timed([rk, "score", "--quiet", "--threads", "1", "--spec", spec_path,
                                "--summary", summ, "-o", "/dev/null"], stdin=f)
    s = json.load(open(summ))
    rk_mean = s["reward_mean"]
    calls = s["model"]["attempts"]
    bwall, bcpu, bout = timed(["/usr/bin/python3", os.path.join(HERE, "baseline_judge.py"),
                               f"http://127.0.0.1:{port}", recs_path, "256"])
    _, _, bmean = bout.decode().split()
    print(f"{label}: {n} records, 256 in flight")
    print(f"  rewardkit : {n / wall:9.0f} records/s  wall {wall:6.2f} s  client CPU "
          f"{cpu * 1e6 / calls:6.1f} us/call  (CPU {100 * cpu / wall:3.0f}% of one core)  "
          f"mean {rk_mean:.6f}  errors {s['model']['errors']}")
    print(f"  python    : {n / bwall:9.0f} records/s  wall {bwall:6.2f} s  client CPU "
          f"{bcpu * 1e6 / n:6.1f} us/call  (CPU {100 * bcpu / bwall:3.0f}% of one core)  "
          f"mean {float(bmean):.6f}")
    print(f"  ratio     : {bwall / wall:.1f}x records/s, {bcpu / cpu:.1f}x less client CPU per call")
    if abs(rk_mean - float(bmean)) > 1e-6:
        print("  MISMATCH: the two means differ")


def main():
    rk = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    d = tempfile.mkdtemp()
    recs_path = os.path.join(d, "recs.jsonl")
    with open(recs_path, "w") as f:
        for i in range(n):
            f.write(json.dumps({"prompt": f"What is {i} + {i}?", "response": f"It is {2 * i}."}) + "\n")
    print(f"machine: {os.cpu_count()} CPUs; command: /usr/bin/python3 bench/model/bench_model.py "
          f"build/rewardkit {n}")
    ng, port = start_nginx(d)
    try:
        run_pair(rk, port, recs_path, n, d, "fast server (nginx, canned reply)")
    finally:
        ng.send_signal(signal.SIGQUIT)
        ng.wait()
    m = min(n, 3000)
    small = os.path.join(d, "small.jsonl")
    with open(recs_path) as f, open(small, "w") as g:
        for i, line in enumerate(f):
            if i >= m:
                break
            g.write(line)
    peer, pport = start_peer()
    try:
        run_pair(rk, pport, small, m, d, "slow server (Python test peer, vLLM formats)")
    finally:
        peer.terminate()
        peer.wait()
    shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
