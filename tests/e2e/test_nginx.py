"""Scale-out end to end: nginx load-balances three `rewardkit serve`
instances on loopback (the configuration of docs/deploy.md); one instance
is killed mid-run, and no request may fail or get a wrong reward.
Skipped (with a message) when nginx is not installed; CI installs it."""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402
from test_server import Server  # noqa: E402

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

CONF = """
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  client_max_body_size 64m;
  upstream rewardkit {{
{servers}
    keepalive 32;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://rewardkit;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout http_502 http_503 non_idempotent;
      proxy_next_upstream_tries 3;
      proxy_connect_timeout 1s;
      proxy_read_timeout 30s;
    }}
  }}
}}
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@h.unittest.skipUnless(os.path.exists(NGINX), "nginx is not installed (apt-get install nginx-light)")
class ScaleOut(h.unittest.TestCase):
    def test_kill_one_instance_mid_run(self):
        backends = [Server() for _ in range(3)]
        d = tempfile.mkdtemp()
        port = free_port()
        servers = "\n".join(f"    server 127.0.0.1:{b.port} max_fails=1 fail_timeout=5s;"
                            for b in backends)
        with open(os.path.join(d, "nginx.conf"), "w") as f:
            f.write(CONF.format(d=d, servers=servers, port=port))
        ng = subprocess.Popen([NGINX, "-p", d, "-c", os.path.join(d, "nginx.conf"),
                               "-g", "daemon off;"], stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 10
            while time.time() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.05)
            failures, done = [], [0]
            lock = threading.Lock()

            def client(k):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                for i in range(60):
                    ans = str((k * 7 + i) % 4)
                    body = json.dumps([{"response": f"<think>t</think><answer>{ans}</answer>",
                                        "reference": "2"}])
                    try:
                        conn.request("POST", "/v1/score", body=body,
                                     headers={"Content-Type": "application/json"})
                        r = conn.getresponse()
                        payload = r.read()
                        want = 2 if ans == "2" else 1
                        got = json.loads(payload)["results"][0]["reward"] if r.status == 200 else None
                        if r.status != 200 or got != want:
                            failures.append((k, i, r.status, payload[:200]))
                    except Exception as e:  # a failed request is a test failure
                        failures.append((k, i, repr(e)))
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    with lock:
                        done[0] += 1
                conn.close()

            threads = [threading.Thread(target=client, args=(k,)) for k in range(6)]
            for t in threads:
                t.start()
            while done[0] < 120:
                time.sleep(0.01)
            backends[1].proc.send_signal(signal.SIGKILL)  # an instance dies mid-run
            for t in threads:
                t.join()
            self.assertEqual(failures, [])
            self.assertEqual(done[0], 360)
        finally:
            ng.send_signal(signal.SIGQUIT)
            try:
                ng.wait(timeout=10)
            except subprocess.TimeoutExpired:
                ng.kill()
            for b in backends:
                b.stop()
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    h.main()
