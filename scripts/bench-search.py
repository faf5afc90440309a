#!/usr/bin/env python3
"""Find file and code search figures of a `gantry serve` binary (argv[1]), each beside plain git
run directly on the server's own bare repository in the same run, so the ratio says what the
server adds (HTTP, authorisation, parsing, ranking) to the work git itself does.

Find file: a repository of 100,000 paths (100 folders of 10 folders of 100 files) in one commit.
 - "first result": the find file page opened on a commit not yet listed (the server lists
   its paths, keeps them, and shows the first 50), once per round on a new commit of the same
   tree; and the JSON matches of a first keystroke on another such commit (listing and ranking);
 - "keystroke": the JSON matches for queries of 1 to 12 letters once the ref is listed;
 - peer: `git ls-tree -r --name-only <branch>` (listing only, no ranking).
Code search: scripts/make-history.py's repository (20,000 commits, 240 files):
 - `GET /api/v4/projects/:id/search?scope=blobs&search=…` for rare and common terms, vs
   `git grep -I -i -F -n --null -C2 -m20 -e … <commit>`;
 - `scope=commits` vs `git log -i -F --grep=… --format=%H -n 501 <commit>`.
Times are medians and 99th percentiles of ROUNDS (default 100) requests, one at a time."""
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Server, git  # noqa: E402

ROUNDS = int(os.environ.get("ROUNDS", "100"))
COMMITS = int(os.environ.get("COMMITS", "20000"))


def p99(samples):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def timed(action):
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def fetch(server, path):
    request = urllib.request.Request(server.base + path, headers={"PRIVATE-TOKEN": server.token})
    with urllib.request.urlopen(request, timeout=60) as response:
        body = response.read()
        assert response.status == 200, (path, response.status)
        return body


def run_git(repo, *args):
    subprocess.run(["git", "-C", repo, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_git_answer(repo, *args):
    """git grep exits 1 when it finds nothing: an answer, not a failure."""
    done = subprocess.run(["git", "-C", repo, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert done.returncode in (0, 1), args


def paths_stream():
    """A fast-import stream: one commit holding 100,000 files (one shared blob)."""
    lines = ["blob", "mark :1", "data 12", "hello world", "",
             "commit refs/heads/main", "committer Bench <bench@example.com> 1600000000 +0000",
             "data 14", "100,000 paths", ""]
    for a in range(100):
        for b in range(10):
            for c in range(100):
                lines.append(f"M 100644 :1 module_{a:02}/part_{b}/file_{c:03}_{a * 1000 + b * 100 + c}.rs")
    lines.append("")
    return ("\n".join(lines)).encode()


def make_project(server, name, source):
    project = server.api("POST", "/api/v4/projects", {"name": name, "visibility": "public"})
    remote = f"http://root:{server.token}@127.0.0.1:{server.port}/{project['path_with_namespace']}.git"
    git(source, "push", "-q", remote, "main")
    found = subprocess.run(["find", os.path.join(server.data, "repositories"), "-name", f"{project['id']}.git"],
                           capture_output=True, text=True, check=True).stdout.split()
    return project, found[0]


def main():
    binary = sys.argv[1]
    server = Server(binary)
    work = tempfile.mkdtemp()
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"{version} on {os.cpu_count()} cores, {time.strftime('%Y-%m-%d', time.gmtime())}, {ROUNDS} rounds")

    # Find file.
    paths_source = os.path.join(work, "paths.git")
    subprocess.run(["git", "init", "-q", "--bare", paths_source], check=True)
    subprocess.run(["git", "-C", paths_source, "fast-import", "--quiet"], input=paths_stream(), check=True)
    project, repo = make_project(server, "paths", paths_source)
    page = f"/{project['path_with_namespace']}/-/find_file"
    files = f"/{project['path_with_namespace']}/-/files"
    first, first_key, listing = [], [], []

    def fresh_commit(name):
        """A new commit of the same tree on branch `name`: a ref whose paths are not listed yet."""
        commit = subprocess.run(["git", "-C", repo, "-c", "user.name=Bench", "-c", "user.email=bench@example.com",
                                 "commit-tree", "main^{tree}", "-p", "main", "-m", name],
                                capture_output=True, text=True, check=True).stdout.strip()
        run_git(repo, "branch", name, commit)
        return name

    for n in range(min(ROUNDS, 30)):
        branch = fresh_commit(f"page-{n}")
        listing.append(timed(lambda: run_git(repo, "ls-tree", "-r", "--name-only", branch)))
        first.append(timed(lambda: fetch(server, f"{page}/{branch}")))
        branch = fresh_commit(f"keys-{n}")
        first_key.append(timed(lambda: fetch(server, f"{files}/{branch}?q=mod5")))
    queries = ["m", "mo", "f7", "mod5", "part3", "file_04", "m12p3f", "module_42", "m_42/p_3/f_05",
               "rs", "module_99/part_9/file_099", "zzz"]
    keystrokes = []
    for n in range(ROUNDS):
        query = urllib.parse.quote(queries[n % len(queries)])
        keystrokes.append(timed(lambda: fetch(server, f"{files}/main?q={query}")))
    print()
    print("| find file, 100,000 paths | median ms | p99 ms |")
    print("|---|---|---|")
    print(f"| first result: the page, commit not listed yet | {statistics.median(first):.1f} | {p99(first):.1f} |")
    print(f"| first keystroke's matches, commit not listed yet | {statistics.median(first_key):.1f} | "
          f"{p99(first_key):.1f} |")
    print(f"| a keystroke's matches (ref listed) | {statistics.median(keystrokes):.1f} | {p99(keystrokes):.1f} |")
    print(f"| git ls-tree -r --name-only | {statistics.median(listing):.1f} | {p99(listing):.1f} |")
    print(f"| ratio first result ÷ git ls-tree | {statistics.median(first) / statistics.median(listing):.2f} | |")

    # Code search.
    history_source = os.path.join(work, "history.git")
    subprocess.run(["git", "init", "-q", "--bare", history_source], check=True)
    stream = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "make-history.py"), str(COMMITS)],
                            capture_output=True, check=True).stdout
    subprocess.run(["git", "-C", history_source, "fast-import", "--quiet"], input=stream, check=True)
    project, repo = make_project(server, "history", history_source)
    commit = subprocess.run(["git", "-C", repo, "rev-parse", "main"], capture_output=True, text=True,
                            check=True).stdout.strip()
    terms = ["wrapping_mul(17)", "function_3(", "Module 7, part 11", "README", "not anywhere at all"]
    search = f"/api/v4/projects/{project['id']}/search"
    rows = []
    for scope in ("blobs", "commits"):
        served, direct = [], []
        for n in range(ROUNDS):
            term = terms[n % len(terms)]
            quoted = urllib.parse.quote(term)
            served.append(timed(lambda: fetch(server, f"{search}?scope={scope}&search={quoted}&per_page=20")))
            if scope == "blobs":
                direct.append(timed(lambda: run_git_answer(repo, "grep", "-I", "-i", "-F", "-n", "--null", "-C2",
                                                           "-m20", "-e", term, commit, "--")))
            else:
                direct.append(timed(lambda: run_git(repo, "log", "-i", "-F", f"--grep={term}", "--format=%H",
                                                    "-n", "501", commit, "--")))
        rows.append((scope, served, direct))
    print()
    print(f"| code search, {COMMITS:,} commits | gantry median / p99 ms | git median / p99 ms | ratio of medians |")
    print("|---|---|---|---|")
    for scope, served, direct in rows:
        peer = "git grep" if scope == "blobs" else "git log --grep"
        print(f"| {scope} (vs {peer}) | {statistics.median(served):.1f} / {p99(served):.1f} | "
              f"{statistics.median(direct):.1f} / {p99(direct):.1f} | "
              f"{statistics.median(served) / statistics.median(direct):.2f} |")
    server.stop()


if __name__ == "__main__":
    main()
