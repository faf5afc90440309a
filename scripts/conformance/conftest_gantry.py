"""Replacement for python-gitlab's tests/functional/conftest.py: Gantry instead of Docker.

How it is put in place (by scripts/conformance/run.py, in a throw-away copy of the sdist):

    tests/functional/conftest.py          <- this file
    tests/functional/upstream_conftest.py <- python-gitlab's conftest.py, byte for byte

Why this way: pytest gives a conftest.py's fixtures priority over plugins (`-p`), so a plugin
cannot override `gitlab_url`/`gitlab_token`; and tests/functional/cli/ already has its own
conftest.py, so an extra conftest below tests/functional would not reach every module either.
Taking the place of tests/functional/conftest.py and star-importing the original keeps every
upstream fixture and hook (gl, reset_gitlab, project, group, user, ... , the plan/markers
logic, the keys) exactly as python-gitlab wrote them; the names redefined below replace only
the parts that need Docker:

* gitlab_url    - upstream: the port of the docker-compose "gitlab" service.
                  Here: a fresh `gantry serve` (fresh data directory, free ports, SQLite),
                  started once per pytest session, i.e. once per test module (the driver runs
                  one pytest per module).
* gitlab_token  - upstream: `docker exec gitlab-test gitlab-rails runner set_token.rb`.
                  Here: `gantry admin create-user root` + `gantry admin create-token`.
* gitlab_runner - upstream: the runner is created through the API exactly as here, then
                  registered with `docker exec gitlab-runner-test gitlab-runner register
                  --executor shell`. Here: `gantry runner --token <that token>` (shell
                  executor). The server runs with --no-builtin-runner so that, as with the
                  Docker setup, jobs run only once this fixture registered a runner.
* pytest_report_collectionfinish - upstream prints "Starting GitLab container".

The test modules, helpers.py, fixtures/ and cli/conftest.py are not touched.

Environment (set by the driver): GANTRY_CONFORMANCE_BIN (the gantry binary),
GANTRY_CONFORMANCE_DIR (the module's folder: data directory, server and runner logs),
GANTRY_CONFORMANCE_REQLOG (failing-request log, see reqlog.py), GANTRY_CONFORMANCE_DATABASE_URL
(run.py --database-url: the module's own PostgreSQL database instead of SQLite).

Diagnosis only (run.py --assume, never for COMPATIBILITY.md): GANTRY_CONFORMANCE_ASSUME,
"METHOD /path=JSON;..." puts a small proxy in front of the server that answers those exact
routes with 200 and that JSON, to see which failures lie behind a blocker that breaks every
test (the session fixture `gl` lists topics and instance variables before any test runs).
GANTRY_CONFORMANCE_QUERY_TO_BODY=1 makes the same proxy move the query parameters of POST and
PUT requests into their JSON body (as GitLab, which reads attributes from either, would see
them; python-gitlab sends `create(name=...)` keyword arguments in the query string).
"""

from __future__ import annotations

import os
import pathlib
import http.client
import http.server
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

import pytest
import gitlab
from tests.functional.upstream_conftest import *  # noqa: F401,F403  (python-gitlab's own)

try:  # failing-request log for the pytest process (CLI subprocesses load it as sitecustomize)
    import sitecustomize  # noqa: F401
except ImportError:
    pass

SERVER_START_TIMEOUT = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _job_uid_base(port: int) -> str:
    # As crates/gantry/tests/e2e/server.rs: when running as root, jobs run as users
    # BASE+N; servers and runners side by side must not share them.
    return str(1_900_000_000 + port * 256)


def _assumed_routes() -> dict[tuple[str, str], bytes]:
    routes = {}
    for item in filter(None, os.environ.get("GANTRY_CONFORMANCE_ASSUME", "").split(";")):
        route, _, body = item.partition("=")
        method, _, path = route.strip().partition(" ")
        routes[(method.upper(), path.strip())] = (body or "null").encode()
    return routes


class _AssumingProxy(http.server.ThreadingHTTPServer):
    """Forwards everything to the server but the assumed routes (diagnosis only)."""

    daemon_threads = True

    def __init__(self, port: int, upstream_port: int, routes) -> None:
        self.upstream_port, self.routes = upstream_port, routes
        self.query_to_body = os.environ.get("GANTRY_CONFORMANCE_QUERY_TO_BODY") == "1"
        super().__init__(("127.0.0.1", port), _ProxyHandler)


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
        if self.server.query_to_body and self.command in ("POST", "PUT") and "?" in path:
            content_type = self.headers.get("Content-Type", "")
            if not body or content_type.startswith("application/json"):
                import json
                import urllib.parse

                path, _, query = path.partition("?")
                data = json.loads(body or b"{}")

                def value(v):
                    if v.lower() in ("true", "false"):
                        return v.lower() == "true"
                    return int(v) if v.isdigit() else v

                for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True):
                    data.setdefault(k.removesuffix("[]"), value(v))
                body = json.dumps(data).encode()
                headers = {k: v for k, v in headers.items() if k.lower() not in ("content-length", "content-type")}
                headers["Content-Type"] = "application/json"
                headers["Content-Length"] = str(len(body))
        stub = self.server.routes.get((self.command, path.split("?", 1)[0]))
        if stub is not None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(stub)))
            self.end_headers()
            self.wfile.write(stub)
            return
        conn = http.client.HTTPConnection("127.0.0.1", self.server.upstream_port, timeout=120)
        conn.request(self.command, path, body=body, headers=headers)
        answer = conn.getresponse()
        data = answer.read()
        self.send_response(answer.status, answer.reason)
        for k, v in answer.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length", "keep-alive"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle


class GantryServer:
    def __init__(self) -> None:
        self.bin = os.environ.get("GANTRY_CONFORMANCE_BIN", "gantry")
        self.dir = pathlib.Path(os.environ.get("GANTRY_CONFORMANCE_DIR", ".")).resolve()
        self.data = self.dir / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        routes = _assumed_routes()
        self.proxy = None
        extra = []
        if routes or os.environ.get("GANTRY_CONFORMANCE_QUERY_TO_BODY") == "1":
            proxy_port = _free_port()
            self.proxy = _AssumingProxy(proxy_port, self.port, routes)
            threading.Thread(target=self.proxy.serve_forever, daemon=True).start()
            extra = ["--external-url", f"http://127.0.0.1:{proxy_port}"]
        self.log = open(self.dir / "gantry.log", "ab")
        env = dict(os.environ)
        env.setdefault("RUST_LOG", os.environ.get("GANTRY_CONFORMANCE_SERVER_LOG", "info"))
        env.setdefault("NO_COLOR", "1")
        env.pop("GANTRY_CONFORMANCE_REQLOG", None)
        # SQLite in the data directory, or the module's own PostgreSQL database (run.py makes
        # it), for the server and the admin commands alike.
        env.pop("GANTRY_DATABASE_URL", None)
        if os.environ.get("GANTRY_CONFORMANCE_DATABASE_URL"):
            env["GANTRY_DATABASE_URL"] = os.environ["GANTRY_CONFORMANCE_DATABASE_URL"]
        self.env = env
        self.proc = subprocess.Popen(
            [
                self.bin, "serve",
                "--listen", f"127.0.0.1:{self.port}",
                "--ssh-listen", f"127.0.0.1:{_free_port()}",
                "--data-dir", str(self.data),
                "--no-builtin-runner",
                "--job-uid-base", _job_uid_base(self.port),
                *extra,
            ],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT, env=env,
        )
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gantry serve exited with {self.proc.returncode}; see {self.dir}/gantry.log")
            try:  # urllib, not requests: the harness's own requests stay out of the request log
                with urllib.request.urlopen(f"{self.url}/-/readiness", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gantry serve not ready after {SERVER_START_TIMEOUT}s")
            time.sleep(0.05)
        self.token = self._admin_token()
        self.server_url = self.url  # what the runner talks to
        if self.proxy is not None:
            self.url = f"http://127.0.0.1:{self.proxy.server_address[1]}"

    def admin(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [self.bin, "admin", *args, "--data-dir", str(self.data)],
            input=stdin, capture_output=True, text=True, env=self.env, timeout=60,
        )

    def _admin_token(self) -> str:
        # set_token.rb gives root a token with the scopes api and sudo; a Gantry that does not
        # know `sudo` gets an `api` token.
        out = self.admin(
            "create-user", "--username", "root", "--email", "root@example.com", "--password-stdin",
            stdin="5iveL!fe-a-long-password\n",
        )
        if out.returncode != 0:
            raise RuntimeError(f"gantry admin create-user: {out.stderr}")
        for scopes in ("api,sudo", "api"):
            out = self.admin("create-token", "--username", "root", "--name", "default", "--scopes", scopes)
            if out.returncode == 0 and out.stdout.strip():
                return out.stdout.strip()
        raise RuntimeError(f"gantry admin create-token: {out.stderr}")

    def stop(self) -> None:
        if self.proxy is not None:
            self.proxy.shutdown()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture(scope="session")
def gantry_server():
    server = GantryServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def gitlab_url(gantry_server: GantryServer) -> str:
    return gantry_server.url


@pytest.fixture(scope="session")
def gitlab_token(gantry_server: GantryServer) -> str:
    return gantry_server.token


@pytest.fixture(scope="session")
def gitlab_runner(gl: gitlab.Gitlab, gantry_server: GantryServer):
    runner_description = "python-gitlab-runner"
    if TYPE_CHECKING:
        assert gl.user is not None

    # Same API call as upstream.
    runner = gl.user.runners.create({"runner_type": "instance_type", "run_untagged": True})

    port = _free_port()  # only to draw job users no other runner here uses
    log = open(gantry_server.dir / "runner.log", "ab")
    proc = subprocess.Popen(
        [
            gantry_server.bin, "runner",
            "--url", gantry_server.url,
            "--token", runner.token,
            "--name", runner_description,
            # Not inside the data directory (0700): jobs run as users of their own.
            "--builds-dir", str(gantry_server.dir / "runner-builds"),
            "--job-uid-base", _job_uid_base(port),
        ],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=gantry_server.env,
    )

    yield f"gantry runner (pid {proc.pid}) for {gantry_server.url}"

    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()
    gl.runners.delete(token=runner.token)


def pytest_report_collectionfinish(config, start_path, items):
    return ["", "Starting a fresh `gantry serve` for this session (no Docker)."]


# Tags each failing request (reqlog.py) with the test and phase it belongs to.
def _tag(item, phase):
    os.environ["GANTRY_CONFORMANCE_TEST"] = f"{item.nodeid}|{phase}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    _tag(item, "setup")
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    _tag(item, "call")
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    _tag(item, "teardown")
    return (yield)
