#!/usr/bin/env python3
"""CI figures of `gantry serve` (the binary given as the first argument, SQLite), printed as a
Markdown table for BENCHMARKS.md. Each figure is measured in this run:

- push to first log line: `git push` of a commit until the first job's log has its first line,
  with the built-in shell runner idle (median of PUSHES pushes);
- the sandbox's cost: that latency and a `true` job's duration with the sandbox and without it
  (`--unsafe-jobs-without-sandbox`), as a ratio;
- job overhead: a `true` job's duration and a 10,000-line job's against running the same
  script directly; log throughput: a job writing 30 MB of log;
- a 1,000-job pipeline (10 layers of 100 jobs, each needing 5 of the layer before): how long
  `POST /pipeline` takes; dispatch: from playing a manual job to a waiting runner receiving it;
- resident memory of the server while 50 jobs stream logs at once (peak), and idle.
"""
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Server as BaseServer, git, push_latencies  # noqa: E402

BIN = sys.argv[1]
PUSHES = int(os.environ.get("PUSHES", "15"))


def Server(*extra):
    """A server of this run's binary on SQLite in a fresh data directory."""
    return BaseServer(BIN, *extra)


def ms_between(start, end):
    from datetime import datetime
    parse = lambda t: datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ")
    return (parse(end) - parse(start)).total_seconds() * 1000


def direct_ms(script, rounds=5):
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run(["bash", "-c", script], stdout=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


results = []

def true_job_durations(server, name, rounds=5):
    """Milliseconds from a runner's start of a `true` job to its end (sources fetched), per round."""
    project = server.project(name, {".gitlab-ci.yml": "nothing:\n  script: 'true'\n"})
    return [ms_between(job["started_at"], job["finished_at"]) for job in server.successful_jobs(project, rounds)]


# --- the sandbox's cost: push to first log line and a `true` job, without and with it ------
bare = Server("--builtin-runner-concurrent", "1", "--unsafe-jobs-without-sandbox")
bare_push = statistics.median(push_latencies(bare, PUSHES))
bare_true = statistics.median(true_job_durations(bare, "bare-true"))
bare.stop()

# --- push to first log line, job overhead, throughput: built-in shell runner ---------------
server = Server("--builtin-runner-concurrent", "1")
sandboxed_push = statistics.median(push_latencies(server, PUSHES))
sandboxed_true = statistics.median(true_job_durations(server, "sandboxed-true"))
results.append(("Push to first log line (idle built-in shell runner, sandboxed, median of %d)" % PUSHES,
                "%.0f ms" % sandboxed_push, "< 300 ms; GitLab's runner polls every 3 s"))
results.append(("Sandbox cost: push to first log line, sandboxed / without the sandbox",
                "%.0f / %.0f ms = %.2f×" % (sandboxed_push, bare_push, sandboxed_push / bare_push), "still < 300 ms"))
results.append(("Sandbox cost: `true` job, sandboxed / without the sandbox (median of 5 each)",
                "%.0f / %.0f ms = %.2f×" % (sandboxed_true, bare_true, sandboxed_true / bare_true), "still < 100 ms"))

lines_script = """seq 1 10000 | awk '{print "log line", $1, "of the benchmark job"}'"""
big_script = """seq 1 300000 | awk '{printf "%099d\\n", $1}'"""
# The 30 MB job runs in a project of its own, after the others: a finished job's log is
# archived in the background (read, hashed, written), and with the big job in the same
# pipelines that work on 30 MB would overlap the next round's `true` job on these 2 cores.
ci = ("stages: [a, b]\n"
      "nothing:\n  stage: a\n  script: 'true'\n"
      f"lines:\n  stage: b\n  script:\n    - |\n      {lines_script}\n")
big_ci = f"big:\n  script:\n    - |\n      {big_script}\n"
durations = {"nothing": [], "lines": [], "big": []}
for name, files in (("overhead", {".gitlab-ci.yml": ci}), ("throughput", {".gitlab-ci.yml": big_ci})):
    project = server.project(name, files)
    for job in server.successful_jobs(project, 5):
        durations[job["name"]].append(ms_between(job["started_at"], job["finished_at"]))
size = len(server.api("GET", f"/api/v4/projects/{project}/jobs/{job['id']}/trace", raw=True))
true_job = statistics.median(durations["nothing"])
lines_job = statistics.median(durations["lines"])
big_job = statistics.median(durations["big"])
results.append(("`true` job, runner's start to finish (incl. fetching sources), median of 5",
                "%.0f ms (script alone %.1f ms)" % (true_job, direct_ms("true")), "< 100 ms overhead"))
results.append(("10,000-line job minus the same script run directly",
                "%.0f ms (job %.0f ms, script %.0f ms)" % (lines_job - direct_ms(lines_script), lines_job, direct_ms(lines_script)),
                "< 100 ms"))
throughput = size / 1e6 / max((big_job - true_job) / 1000, 1e-3)
results.append(("Log throughput: a 30 MB log, stored and served whole (%d bytes)" % size,
                "%.0f MB/s" % throughput, "> 20 MB/s"))
idle_rss = server.rss_kb()
server.stop()

# --- a 1,000-job pipeline and dispatch: no built-in runner ----------------------------------
server = Server("--no-builtin-runner")
layers, width = 10, 100
lines = ["stages: [%s]" % ", ".join(f"s{k}" for k in range(layers))]
for k in range(layers):
    for j in range(width):
        needs = [] if k == 0 else [f"j{k - 1}_{(j + i) % width}" for i in range(5)]
        lines.append(f"j{k}_{j}:\n  stage: s{k}\n  needs: [{', '.join(needs)}]\n  script: echo {k} {j}")
big_ci = "\n".join(lines) + "\n"
manual_ci = "".join(f"m{i}:\n  script: echo {i}\n  when: manual\n" for i in range(PUSHES + 5))
project = server.project("wide", {".gitlab-ci.yml": big_ci})
creation = []
for _ in range(5):
    start = time.perf_counter()
    pipeline = server.api("POST", f"/api/v4/projects/{project}/pipeline", {"ref": "main"})
    creation.append((time.perf_counter() - start) * 1000)
jobs_in_pipeline = len(server.api("GET", f"/api/v4/projects/{project}/pipelines/{pipeline['id']}/jobs?per_page=100"))
results.append(("Create a 1,000-job pipeline with a wide `needs` DAG (`POST /pipeline`, median of 5)",
                "%.0f ms" % statistics.median(creation), "< 1 s"))

project = server.project("dispatch", {".gitlab-ci.yml": manual_ci})
# The wide pipelines' pending jobs belong to another project: a project runner takes only these.
runner = server.admin("create-runner", "--project", "root/dispatch").strip()
pipeline = server.wait_pipeline(project, 1)
manual = [j for j in server.jobs(project, pipeline["id"]) if j["status"] == "manual"]
dispatch = []
for job in manual[:PUSHES]:
    got = {}

    def poll():
        request = urllib.request.Request(server.base + "/api/v4/jobs/request", method="POST",
                                         data=json.dumps({"token": runner, "info": {"executor": "bench"}}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            got["at"] = time.perf_counter()
            got["job"] = json.loads(response.read())

    waiter = threading.Thread(target=poll)
    waiter.start()
    time.sleep(0.3)  # the runner is waiting in its long poll
    start = time.perf_counter()
    server.api("POST", f"/api/v4/projects/{project}/jobs/{job['id']}/play")
    waiter.join()
    dispatch.append((got["at"] - start) * 1000)
    request = urllib.request.Request(server.base + f"/api/v4/jobs/{got['job']['id']}", method="PUT",
                                     data=json.dumps({"token": got["job"]["token"], "state": "success"}).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()
results.append(("Dispatch: play a manual job until a waiting runner has it (incl. the play request), median of %d" % len(dispatch),
                "%.1f ms" % statistics.median(dispatch), "< 10 ms"))
server.stop()

# --- memory with 50 jobs streaming logs -----------------------------------------------------
server = Server("--builtin-runner-concurrent", "50")
stream_ci = ("stream:\n  parallel: 50\n  script:\n"
             "    - for i in $(seq 1 200); do echo \"line $i of a job streaming its log to the server\"; sleep 0.05; done\n")
project = server.project("streams", {".gitlab-ci.yml": stream_ci})
peak = 0
running_seen = 0
deadline = time.time() + 300
while time.time() < deadline:
    peak = max(peak, server.rss_kb())
    pipelines = server.api("GET", f"/api/v4/projects/{project}/pipelines?per_page=1")
    if pipelines:
        jobs = server.jobs(project, pipelines[0]["id"])
        running_seen = max(running_seen, sum(1 for j in jobs if j["status"] == "running"))
        if pipelines[0]["status"] in ("success", "failed"):
            break
    time.sleep(0.1)
results.append(("Server resident memory, idle after the runs above", "%.0f MB" % (idle_rss / 1024), "report"))
results.append(("Server resident memory while 50 jobs stream logs (peak; %d seen running at once)" % running_seen,
                "%.0f MB (VmHWM %.0f MB)" % (peak / 1024, server.rss_kb("VmHWM") / 1024), "< 150 MB"))
server.stop()

print("| figure | measured | goal |")
print("|---|---|---|")
for name, value, goal in results:
    print(f"| {name} | {value} | {goal} |")
