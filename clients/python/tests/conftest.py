"""Fixtures: the real `subsetd serve` on generated data (without keys, and
with them), and a small fake HTTP server for what the real one does not do
yet (event streams)."""

import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[3]
GRIDS = REPO / "testdata" / "grids"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ncgen(cdl_text, out):
    cdl = out.with_suffix(".cdl")
    cdl.write_text(cdl_text)
    subprocess.run(["ncgen", "-k", "nc4", "-o", str(out), str(cdl)], check=True, capture_output=True)
    cdl.unlink()


class Server:
    def __init__(self, url, data, log):
        self.url, self.data, self.log = url, data, log

    def log_lines(self):
        """The server's JSON log lines so far."""
        out = []
        for line in self.log.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """subsetd serve on three datasets:
    global  testdata/grids/global2deg.cdl: sst(t, j, i) = t*100000 + j*1000 + i,
            lat = -89 + 2j, lon = -179 + 2i, fill (-999) on the row j = 89; one step, 2000-01-01
    passes  granules: two copies of it, days 2000-01-01 and 2000-01-02
    sst     the sample of testdata/gensample (12 days from 2020-01-01, 1-degree grid)
    """
    binary = Path(os.environ.get("SUBSETD_BIN", REPO / "bin" / "subsetd"))
    if not binary.is_file():
        pytest.exit("%s is missing: run `make build` (make test/python does)" % binary, returncode=1)
    for tool in ("ncgen", "go"):
        if shutil.which(tool) is None and not Path("/usr/local/go/bin", tool).exists():
            pytest.exit("%s is needed: run scripts/setup.sh" % tool, returncode=1)
    root = tmp_path_factory.mktemp("subsetd")
    data, state = root / "data", root / "state"
    (data / "passes").mkdir(parents=True)
    cdl = (GRIDS / "global2deg.cdl").read_text()
    ncgen(cdl, data / "global.nc")
    for day in (0, 1):
        text, n = re.subn(r"(\n time =\s*)0 ;", r"\g<1>%d ;" % day, cdl)
        assert n == 1, "global2deg.cdl: its time data changed"
        ncgen(text, data / "passes" / ("day%d.nc" % day))
    env = dict(os.environ, PATH=os.environ.get("PATH", "") + ":/usr/local/go/bin")
    subprocess.run(["go", "run", "./testdata/gensample", "-out", str(data / "sst.nc")], cwd=REPO, env=env,
                   check=True, capture_output=True)
    config = root / "config.json"
    config.write_text(json.dumps({"datasets": {"passes": {"kind": "granules", "title": "two daily granules"}}}))
    yield from _serve(binary, data, state, root / "serve.log", ["--config", str(config), "--auth", "none"])


def _serve(binary, data, state, log, args):
    """Runs subsetd serve on 127.0.0.1 until the session ends; yields its Server."""
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    with open(log, "wb") as logf:
        proc = subprocess.Popen([str(binary), "serve", "--data", str(data),
                                 "--state", str(state), "--addr", "127.0.0.1:%d" % port, "--workers", "2",
                                 "--index-interval", "0", "--log-level", "info"] + args,
                                stdout=logf, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.exit("subsetd serve exited (%s): %s" % (proc.returncode, log.read_text()[-2000:]), returncode=1)
            try:
                r = requests.get(url + "/readyz", timeout=2)
                if r.status_code == 200 and r.json().get("indexed", True):
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.exit("subsetd serve not ready after 60 s: %s" % log.read_text()[-2000:], returncode=1)
            time.sleep(0.1)
        yield Server(url, data, log)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def keyed(server, tmp_path_factory):
    """subsetd serve --auth keys on the same data, with the API keys of
    alice and bob (users) in keyed.keys."""
    binary = Path(os.environ.get("SUBSETD_BIN", REPO / "bin" / "subsetd"))
    root = tmp_path_factory.mktemp("keyed")
    state = root / "state"
    keys = {}
    for name in ("alice", "bob"):
        out = subprocess.run([str(binary), "keys", "create", "--name", name, "--state", str(state)],
                             check=True, capture_output=True, text=True)
        keys[name] = out.stdout.strip()
    for s in _serve(binary, server.data, state, root / "serve.log", ["--auth", "keys"]):
        s.keys = keys
        yield s


@pytest.fixture
def client(server, tmp_path):
    from subsetd import Client

    return Client(server.url, cache_dir=tmp_path / "cache")


class FakeServer:
    """A tiny HTTP server answering from routes: {(method, path): handler},
    handler(request) -> (status, headers, body) where body is bytes, a
    dict (JSON) or an iterable of bytes (sent chunked, flushed each).
    Records every request as (method, path, headers)."""

    def __init__(self, routes):
        self.routes, self.requests = routes, []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle_one(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                outer.requests.append((self.command, self.path, dict(self.headers)))
                h = outer.routes.get((self.command, path))
                if h is None:
                    status, headers, body = 404, {"Content-Type": "application/problem+json"}, {
                        "type": "urn:subsetd:problem:not_found", "title": "Not Found", "status": 404,
                        "code": "not_found", "detail": "no such resource: " + path}
                else:
                    status, headers, body = h(self)
                if isinstance(body, dict):
                    body = json.dumps(body).encode()
                    headers = {"Content-Type": "application/json", **headers}
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if isinstance(body, bytes):
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for part in body:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

            do_GET = do_POST = do_DELETE = handle_one

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fake():
    servers = []

    def make(routes):
        s = FakeServer(routes)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.close()
