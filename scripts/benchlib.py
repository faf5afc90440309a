"""What the benchmark scripts share: a real `gantry serve` (a given binary, SQLite in a fresh
data directory by default, or a PostgreSQL URL and another server's data directory), with an
administrator `root` and an `api` token, and helpers for git and the API."""
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def git(cwd, *args):
    subprocess.run(["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.com",
                    "-c", "init.defaultBranch=main", "-c", "credential.helper=", *args],
                   cwd=cwd, check=True, capture_output=True)


class Server:
    def __init__(self, binary, *extra, database_url=None, beside=None):
        """`binary` serving with `extra` options; on `database_url` (default: SQLite in the data
        directory); `beside` another Server whose database and data directory it shares."""
        self.bin = binary
        self.owner = beside is None
        if beside is None:
            self.dir = tempfile.TemporaryDirectory()
            # The sandbox's jobs run as users of their own, who pass through here to their directory.
            os.chmod(self.dir.name, 0o755)
            self.data = self.dir.name
            self.database = database_url or f"sqlite://{self.data}/gantry.db"
        else:
            self.dir, self.data, self.database = None, beside.data, beside.database
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [binary, "serve", "--listen", f"127.0.0.1:{self.port}", "--ssh-listen", f"127.0.0.1:{free_port()}",
             "--data-dir", self.data, "--database-url", self.database, *extra],
            env={**os.environ, "RUST_LOG": "warn"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while True:
            try:
                if urllib.request.urlopen(self.base + "/-/readiness", timeout=1).status == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                sys.exit("gantry did not start")
            time.sleep(0.05)
        if beside is None:
            self.admin("create-user", "--username", "root", "--email", "root@example.com", "--password-stdin",
                       stdin="a long password\n")
            self.token = self.admin("create-token", "--username", "root", "--name", "bench", "--scopes", "api").strip()
        else:
            self.token = beside.token

    def admin(self, *args, stdin=None):
        out = subprocess.run([self.bin, "admin", *args, "--data-dir", self.data, "--database-url", self.database],
                             input=stdin, text=True, capture_output=True, check=True)
        return out.stdout

    def api(self, method, path, body=None, raw=False):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"PRIVATE-TOKEN": self.token, "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            payload = response.read()
            return payload if raw else (json.loads(payload) if payload else None)

    def project(self, name, files):
        project = self.api("POST", "/api/v4/projects", {"name": name})
        self.work = tempfile.mkdtemp()
        git(self.work, "init", "-q")
        for file, content in files.items():
            with open(os.path.join(self.work, file), "w") as f:
                f.write(content)
        git(self.work, "add", "-A")
        git(self.work, "commit", "-qm", "first")
        self.remote = f"http://root:{self.token}@127.0.0.1:{self.port}/{project['path_with_namespace']}.git"
        git(self.work, "push", "-q", self.remote, "main")
        return project["id"]

    def wait_pipeline(self, project, iid, statuses=("success", "failed", "canceled", "manual")):
        deadline = time.time() + 600
        while time.time() < deadline:
            for pipeline in self.api("GET", f"/api/v4/projects/{project}/pipelines?per_page=5"):
                if pipeline["iid"] == iid and pipeline["status"] in statuses:
                    return pipeline
            time.sleep(0.02)
        sys.exit(f"pipeline {iid} did not finish")

    def successful_jobs(self, project, rounds):
        """The jobs of `rounds` pipelines of `project` (its push's, then `POST /pipeline`), each
        checked to have succeeded (the run stops with the log of one that did not)."""
        for round_ in range(rounds):
            if round_ > 0:
                self.api("POST", f"/api/v4/projects/{project}/pipeline", {"ref": "main"})
            pipeline = self.wait_pipeline(project, round_ + 1)
            for job in self.jobs(project, pipeline["id"]):
                if job["status"] != "success":
                    log = self.api("GET", f"/api/v4/projects/{project}/jobs/{job['id']}/trace", raw=True)
                    sys.exit(f"job {job['name']} {job['status']}:\n{log.decode(errors='replace')}")
                yield job

    def jobs(self, project, pipeline):
        return self.api("GET", f"/api/v4/projects/{project}/pipelines/{pipeline}/jobs?per_page=100")

    def rss_kb(self, field="VmRSS"):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        if self.dir is not None:
            self.dir.cleanup()


def push_latencies(server, pushes):
    """Milliseconds from `git push` to `server` returning to the first log line being served by
    it, `pushes` times (its runner may be anywhere)."""
    project = server.project("latency", {".gitlab-ci.yml": "first:\n  script: echo hi\n"})
    server.wait_pipeline(project, 1)
    latencies = []
    for n in range(pushes):
        with open(os.path.join(server.work, "n.txt"), "w") as f:
            f.write(str(n))
        git(server.work, "add", "-A")
        git(server.work, "commit", "-qm", f"change {n}")
        start = time.perf_counter()
        git(server.work, "push", "-q", server.remote, "main")
        while True:
            pipelines = server.api("GET", f"/api/v4/projects/{project}/pipelines?per_page=1")
            if pipelines and pipelines[0]["iid"] == n + 2:
                jobs = server.jobs(project, pipelines[0]["id"])
                if jobs and server.api("GET", f"/api/v4/projects/{project}/jobs/{jobs[0]['id']}/trace", raw=True):
                    latencies.append((time.perf_counter() - start) * 1000)
                    break
            time.sleep(0.002)
        server.wait_pipeline(project, n + 2)
    return latencies


def sign_in(server, username, password="a long password"):
    """The Cookie header of `username`'s browser session, signed in through the form."""
    def cookies(response):
        return [value.split(";")[0] for name, value in response.getheaders() if name.lower() == "set-cookie"]
    connection = http.client.HTTPConnection("127.0.0.1", server.port)
    connection.request("GET", "/users/sign_in")
    form = connection.getresponse()
    jar = cookies(form)
    token = re.search(r'name="authenticity_token" value="([^"]+)"', form.read().decode()).group(1)
    body = urllib.parse.urlencode({"authenticity_token": token, "login": username, "password": password})
    connection.request("POST", "/users/sign_in", body, {"Cookie": "; ".join(jar),
                                                         "Content-Type": "application/x-www-form-urlencoded"})
    signed_in = connection.getresponse()
    signed_in.read()
    if signed_in.status != 303 and signed_in.status != 302:
        sys.exit(f"{username} cannot sign in: {signed_in.status}")
    return "; ".join(jar + cookies(signed_in))


def wrk_ms(value):
    """wrk's latency (`850.00us`, `12.34ms`, `1.20s`, `2.00m`, `1.00h`) in milliseconds."""
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value)
    if found is None:
        sys.exit(f"wrk gave a latency of {value!r}")
    number, unit = found.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}[unit]


def wrk_latency(url, headers, connections, seconds):
    """Requests/s, median and 99th percentile (ms) of wrk on `url` with `connections` open at
    once for `seconds`; stops the run if any answer was not a success."""
    # A request slower than wrk's default 2 s would be a timeout, left out of the latencies.
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "--latency"]
    for header in headers:
        command += ["-H", header]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        sys.exit(f"{url}: {bad.group(1)} failed responses\n{out}")
    if re.search(r"(?m)^\s+50%\s+(\S+)", out) is None:
        sys.exit(f"{url}: wrk measured nothing (every request slower than the run?)\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    median = wrk_ms(re.search(r"(?m)^\s+50%\s+(\S+)", out).group(1))
    p99 = wrk_ms(re.search(r"(?m)^\s+99%\s+(\S+)", out).group(1))
    return rate, median, p99
