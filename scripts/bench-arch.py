#!/usr/bin/env python3
"""Issue 12's figures (the architecture step), printed for BENCHMARKS.md; each measured in this
run. Usage: bench-arch.py BIN [BASE_BIN] (scripts/bench-arch builds them).

- Pages that used to authorise several times (branches, pipelines, CI/CD settings) and
  `GET /api/v4/projects/:id`, as a group Maintainer of a private project, under wrk (32
  connections, WRK_SECONDS each): requests/s of BIN and, given, of BASE_BIN (an older build),
  with the ratio. SQLite, no built-in runner.
- Idle resident memory 3 s after start, with the built-in runner and without (median of 3).
- Two servers on one PostgreSQL database (BENCH_DATABASE_URL names the server; a database is
  made for the run): `GET /api/v4/projects/:id` through nginx with one server behind it and
  with two; and push to first log line when the push goes to one server and the runner
  long-polls the other (median of PUSHES).
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Server, free_port, git, push_latencies, sign_in, wrk_latency  # noqa: E402

BIN = sys.argv[1]
BASE = sys.argv[2] if len(sys.argv) > 2 else None
SECONDS = os.environ.get("WRK_SECONDS", "5")
ROUNDS = int(os.environ.get("ROUNDS", "3"))
PUSHES = int(os.environ.get("PUSHES", "15"))
POSTGRES = os.environ.get("BENCH_DATABASE_URL", "postgres://gantry:gantry@127.0.0.1:5432/postgres")


def wrk(url, header):
    """Requests/s and p99 of wrk on `url` with one extra header, at 32 connections."""
    rate, _, p99 = wrk_latency(url, [header], 32, SECONDS)
    return rate, f"{p99:.2f}ms"


def maintained_project(server):
    """A private group's project with a CI file, ten branches and a pending pipeline, and a
    group Maintainer `maint`: (project path, project id, maint's token, maint's cookie)."""
    group = server.api("POST", "/api/v4/groups", {"name": "Acme", "path": "acme", "visibility": "private"})
    project = server.api("POST", "/api/v4/projects", {"name": "API", "path": "api", "namespace_id": group["id"]})
    work = tempfile.mkdtemp()
    git(work, "init", "-q")
    with open(os.path.join(work, ".gitlab-ci.yml"), "w") as f:
        f.write("build:\n  script: echo build\ntest:\n  stage: test\n  script: echo test\n")
    git(work, "add", "-A")
    git(work, "commit", "-qm", "first")
    git(work, "push", "-q", f"http://root:{server.token}@127.0.0.1:{server.port}/acme/api.git", "main")
    shutil.rmtree(work)
    for n in range(10):
        server.api("POST", f"/api/v4/projects/{project['id']}/repository/branches", {"branch": f"topic-{n}", "ref": "main"})
    server.admin("create-user", "--username", "maint", "--email", "maint@example.com", "--password-stdin",
                 stdin="a long password\n")
    token = server.admin("create-token", "--username", "maint", "--name", "bench", "--scopes", "api").strip()
    user = server.api("GET", "/api/v4/users?username=maint")[0]
    server.api("POST", f"/api/v4/groups/{group['id']}/members", {"user_id": user["id"], "access_level": 40})
    return "acme/api", project["id"], token, sign_in(server, "maint")


def page_targets(binary):
    """A server of `binary` with `maintained_project`, and what to measure on it: (server,
    {name: (url, header)})."""
    server = Server(binary, "--no-builtin-runner")
    path, project, token, cookie = maintained_project(server)
    targets = {name: (f"{server.base}/{path}{page}", f"Cookie: {cookie}")
               for name, page in [("branches page", "/-/branches"), ("pipelines page", "/-/pipelines"),
                                  ("CI/CD settings page", "/-/settings/ci_cd")]}
    targets["GET /api/v4/projects/:id"] = (f"{server.base}/api/v4/projects/{project}", f"PRIVATE-TOKEN: {token}")
    return server, targets


def page_rates():
    """{name: (now, before)} with each side's best of ROUNDS wrk runs, the two sides taking turns
    so that the machine's drift meets both alike (before is None without BASE)."""
    sides = [page_targets(BIN)] + ([page_targets(BASE)] if BASE else [])
    try:
        best = {}
        for name in sides[0][1]:
            runs = [[], []]
            for _ in range(ROUNDS):
                for side, (_, targets) in enumerate(sides):
                    runs[side].append(wrk(*targets[name]))
            pick = lambda results: max(results, key=lambda r: r[0]) if results else None
            best[name] = (pick(runs[0]), pick(runs[1]))
        return best
    finally:
        for server, _ in sides:
            server.stop()


def tree_rss_kb(pid):
    """Resident memory of `pid` and every process below it (the runner's job networks)."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    pending.extend(int(child) for child in f.read().split())
        except (OSError, StopIteration):
            pass
    return total


def drop_cached(path):
    """Drops `path`'s pages from the page cache (those no process maps).

    Most of an idle server's resident memory is the program's code, mapped from the page cache,
    and how much of it a page run maps depends on how the file came into the cache: read from
    disk by the program's own page faults, 64 KB around each; written by the linker or `cp`, or
    read whole by `cat`, in large folios that the kernel (6.18 here) maps whole, 4 MB more for
    the same code (27.4 MB against 23.7 MB idle without the built-in runner, 847967c). Each
    start begins from the disk, as after a reboot, so that figures compare."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def idle_rss_mb(*extra):
    """Median of 3 starts, 3 s after ready, the program not in the page cache before each: the
    server's own resident memory and that of the server with the processes it started (MB)."""
    own, tree = [], []
    for _ in range(3):
        drop_cached(BIN)
        server = Server(BIN, *extra)
        time.sleep(3)
        own.append(server.rss_kb() / 1024)
        tree.append(tree_rss_kb(server.proc.pid) / 1024)
        server.stop()
    return statistics.median(own), statistics.median(tree)


def psql(url, sql):
    subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True, capture_output=True)


class Nginx:
    """nginx balancing `upstreams` on 127.0.0.1:port (retrying another on a refused connection)."""

    def __init__(self, upstreams):
        self.dir = tempfile.TemporaryDirectory()
        self.port = free_port()
        servers = " ".join(f"server 127.0.0.1:{p};" for p in upstreams)
        config = (f"daemon off;\nworker_processes 1;\npid {self.dir.name}/nginx.pid;\n"
                  "events { worker_connections 1024; }\n"
                  f"http {{\n  access_log off;\n  client_body_temp_path {self.dir.name}/body;\n"
                  f"  proxy_temp_path {self.dir.name}/proxy;\n  fastcgi_temp_path {self.dir.name}/fastcgi;\n"
                  f"  uwsgi_temp_path {self.dir.name}/uwsgi;\n  scgi_temp_path {self.dir.name}/scgi;\n"
                  f"  upstream gantry {{ {servers} keepalive 32; }}\n"
                  f"  server {{ listen 127.0.0.1:{self.port}; location / {{ proxy_pass http://gantry; "
                  "proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_set_header Host $host; } }\n}\n")
        with open(f"{self.dir.name}/nginx.conf", "w") as f:
            f.write(config)
        self.proc = subprocess.Popen(["/usr/sbin/nginx", "-p", self.dir.name, "-c", f"{self.dir.name}/nginx.conf",
                                      "-e", f"{self.dir.name}/error.log"], stdout=subprocess.DEVNULL)
        time.sleep(0.5)

    def stop(self):
        self.proc.send_signal(3)
        self.proc.wait()
        self.dir.cleanup()


def two_servers():
    name = f"gantry_bench_{os.getpid()}"
    psql(POSTGRES, f"CREATE DATABASE {name}")
    url = POSTGRES.rsplit("/", 1)[0] + "/" + name
    first = Server(BIN, "--no-builtin-runner", database_url=url)
    second = Server(BIN, "--no-builtin-runner", beside=first)
    runner = None
    try:
        project = first.api("POST", "/api/v4/projects", {"name": "Shared"})
        rates = {}
        for label, upstreams in [("one server", [first.port]), ("two servers", [first.port, second.port])]:
            nginx = Nginx(upstreams)
            rates[label] = wrk(f"http://127.0.0.1:{nginx.port}/api/v4/projects/{project['id']}",
                               f"PRIVATE-TOKEN: {first.token}")
            nginx.stop()
        # Push to the first server, a runner long-polling the second.
        token = first.admin("create-runner").strip()
        builds = tempfile.mkdtemp()
        os.chmod(builds, 0o755)  # a root runner's jobs run as users of their own
        runner = subprocess.Popen([BIN, "runner", "--url", second.base, "--token", token, "--executor", "shell",
                                   "--builds-dir", builds], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  env={**os.environ, "RUST_LOG": "warn"})
        time.sleep(1)
        if runner.poll() is not None:
            sys.exit(f"the runner stopped: {runner.returncode}")
        latencies = push_latencies(first, PUSHES)
        return rates, latencies
    finally:
        if runner is not None:
            runner.terminate()
            runner.wait()
        second.stop()
        first.stop()
        psql(POSTGRES, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


print(f"# issue 12 figures, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores")
rates = page_rates()
print(f"\n| request (group Maintainer, private project; best of {ROUNDS} x {SECONDS} s) | "
      + ("before req/s (p99) | " if BASE else "") + "now req/s (p99) |" + (" now / before |" if BASE else ""))
print("|---|" + ("---|---|" if BASE else "") + "---|")
for name, (now, before) in rates.items():
    if before:
        print(f"| {name} | {before[0]:,.0f} ({before[1]}) | {now[0]:,.0f} ({now[1]}) | {now[0] / before[0]:.2f} |")
    else:
        print(f"| {name} | {now[0]:,.0f} ({now[1]}) |")
with_runner, bare = idle_rss_mb(), idle_rss_mb("--no-builtin-runner")
print(f"\nidle RSS 3 s after start (median of 3): {with_runner[0]:.1f} MB with the built-in runner "
      f"({with_runner[1]:.1f} MB with its job network processes), {bare[0]:.1f} MB without it")
rates, latencies = two_servers()
print("\nTwo servers on one PostgreSQL database, through nginx:")
for label, (rate, p99) in rates.items():
    print(f"- GET /api/v4/projects/:id with {label}: {rate:,.0f} req/s (p99 {p99})")
print(f"- push to the first, runner on the second, push to first log line: median "
      f"{statistics.median(latencies):.0f} ms (min {min(latencies):.0f}, max {max(latencies):.0f}, {len(latencies)} pushes)")
