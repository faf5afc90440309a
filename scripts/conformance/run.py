#!/usr/bin/env python3
"""python-gitlab's own functional tests, unmodified, against Gantry; results in COMPATIBILITY.md.

    scripts/conformance.sh                      # everything; writes COMPATIBILITY.md
    scripts/conformance.sh --implemented-only   # CI: the modules of the areas Gantry implements;
                                                # exits 1 when one of their tests fails
    scripts/conformance.sh --modules test_users,test_cli_v4 --jobs 1
    scripts/conformance.sh --implemented-only --database-url postgres://gantry:gantry@127.0.0.1:5432/postgres
                                                # the same on PostgreSQL (a database per module)

What it does (standard library only; the suite's own dependencies go into a venv):
1. downloads python-gitlab's sdist at PYTHON_GITLAB_VERSION with pip (cached), checks that it
   unpacks and has tests/functional, and makes a venv with python-gitlab from that sdist, the
   sdist's requirements.txt + requirements-test.txt (pinned there) and pytest-timeout;
2. copies the unpacked sdist to a run folder and swaps in conftest_gantry.py as
   tests/functional/conftest.py (the original beside it as upstream_conftest.py, imported by
   ours: see conftest_gantry.py for why and what is replaced: only the Docker parts);
3. for each test module, one pytest (a fresh `gantry serve`: fresh data directory, free
   port, SQLite or, with --database-url, a fresh PostgreSQL database), with a per-test timeout (pytest-timeout) and a per-module one, a JUnit XML file, the
   server's and runner's logs and a log of the failing HTTP requests, all kept in
   <cache>/runs/<stamp>/modules/<module>/;
4. aggregates per module and per area (AREAS/RULES below) into COMPATIBILITY.md and
   <run>/results.json, with the first failing test of each module, its error line and the
   request that broke it, and a ranking of failure causes.

The gantry binary is copied into the cache first, so that a rebuild during the run does not
change it under the tests.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import datetime
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import urllib.parse
import xml.etree.ElementTree as ET

PYTHON_GITLAB_VERSION = "8.6.0"
PYTEST_TIMEOUT_VERSION = "2.4.0"
HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent

# --- What Gantry implements ------------------------------------------------------------------
# Area -> implemented by Gantry. Tests of implemented areas gate CI (--implemented-only).
AREAS = {
    "users": True,
    "current user and keys": True,
    "groups and members": True,
    "projects and members": True,
    "variables": True,
    "repository, files, commits": True,
    "branches, tags, protected branches": True,
    "pipelines, jobs, schedules, triggers, statuses, runners": True,
    "deploy keys and tokens": True,
    "project and group access tokens": True,
    "topics": True,
    "client basics (auth, config, pagination, CLI)": True,
    "instance (settings, templates, metrics, license, search, events, ...)": False,
    "issues, labels, milestones, boards": True,
    "Markdown preview": True,
    # A paid GitLab feature that Gantry has for everyone.
    "epics": True,
    "merge requests": False,
    "notes and discussions": False,
    "releases": False,
    "packages and registry": False,
    "feature flags": False,
    "wikis": True,
    "snippets": False,
    "import/export": False,
    "integrations and hooks": False,
    "custom attributes, badges, stars, forks, mirrors, pages, ...": False,
    "CI job token scope": True,
    "GraphQL": False,
    "Premium/Ultimate (LDAP/SAML, push rules, member roles, ...)": False,
    "outside Gantry (calls gitlab.com)": False,
    # Tests upstream marks xfail for a bug of GitLab's that Gantry does not have: they pass here,
    # which the suite's strict xfail reports as a failure.
    "xfail upstream for a GitLab bug (passes in Gantry)": False,
}

# (module, test-name regex or None for "the rest of the module", area); first match wins.
# Modules are run whole (their tests build on each other); this only sorts their results.
RULES = [
    ("api/test_branches", None, "branches, tags, protected branches"),
    ("api/test_current_user", None, "current user and keys"),
    ("api/test_keys", r"test_keys_deploy", "deploy keys and tokens"),
    ("api/test_keys", None, "current user and keys"),
    ("api/test_deploy_keys", None, "deploy keys and tokens"),
    ("api/test_deploy_tokens", None, "deploy keys and tokens"),
    ("api/test_topics", None, "topics"),
    ("api/test_variables", None, "variables"),
    # Lists a project's merge requests after a lazy get.
    ("api/test_lazy_objects", r"test_list_children_after_lazy_get", "merge requests"),
    ("api/test_lazy_objects", None, "projects and members"),
    ("api/test_users", r"test_user_events_list", "instance (settings, templates, metrics, license, search, events, ...)"),
    ("api/test_users", r"test_user_custom_attributes", "custom attributes, badges, stars, forks, mirrors, pages, ..."),
    # Identities link an account to an external sign-in provider (LDAP, SAML, OIDC).
    ("api/test_users", r"test_user_identities", "Premium/Ultimate (LDAP/SAML, push rules, member roles, ...)"),
    ("api/test_users", None, "users"),
    ("api/test_groups", r"test_groups$|test_group_subgroups_projects|test_group_transfer|test_group_avatar", "groups and members"),
    ("api/test_groups", r"test_group_protected_branches", "branches, tags, protected branches"),
    ("api/test_groups", r"test_group_labels|test_group_milestones", "issues, labels, milestones, boards"),
    ("api/test_groups", r"test_group_hooks|test_group_notification", "integrations and hooks"),
    ("api/test_groups", r"test_group_wiki", "wikis"),
    ("api/test_groups", r"test_group_badges|test_group_custom_attributes", "custom attributes, badges, stars, forks, mirrors, pages, ..."),
    ("api/test_groups", None, "Premium/Ultimate (LDAP/SAML, push rules, member roles, ...)"),
    ("api/test_projects", r"test_projects?_head|test_create_project|test_project_members|test_project_avatar|test_project_groups_list|test_project_transfer", "projects and members"),
    ("api/test_projects", r"test_project_protected_branches|test_project_tags", "branches, tags, protected branches"),
    ("api/test_projects", r"test_project_triggers", "pipelines, jobs, schedules, triggers, statuses, runners"),
    ("api/test_projects", r"test_project_(labels|label_promotion|milestones|milestone_promotion|boards)", "issues, labels, milestones, boards"),
    ("api/test_projects", r"test_project_(hooks|services)", "integrations and hooks"),
    ("api/test_projects", r"test_project_wiki", "wikis"),
    ("api/test_projects", r"test_project_(events|housekeeping|storage)", "instance (settings, templates, metrics, license, search, events, ...)"),
    ("api/test_projects", r"test_project_external_status_check", "Premium/Ultimate (LDAP/SAML, push rules, member roles, ...)"),
    ("api/test_projects", None, "custom attributes, badges, stars, forks, mirrors, pages, ..."),
    ("api/test_repository", r"test_commit_comment|test_commit_discussion", "notes and discussions"),
    ("api/test_repository", r"test_create_commit_status", "pipelines, jobs, schedules, triggers, statuses, runners"),
    ("api/test_repository", None, "repository, files, commits"),
    ("api/test_gitlab", r"test_auth_from_config|test_(no_)?custom_session|test_pagination|test_list_", "client basics (auth, config, pagination, CLI)"),
    ("api/test_gitlab", r"test_hooks", "integrations and hooks"),
    ("api/test_gitlab", r"test_markdown", "Markdown preview"),
    ("api/test_gitlab", None, "instance (settings, templates, metrics, license, search, events, ...)"),
    ("api/test_boards", None, "issues, labels, milestones, boards"),
    ("api/test_issues", None, "issues, labels, milestones, boards"),
    ("api/test_merge_requests", None, "merge requests"),
    ("api/test_releases", None, "releases"),
    ("api/test_packages", None, "packages and registry"),
    ("api/test_registry", None, "packages and registry"),
    ("api/test_project_feature_flags", None, "feature flags"),
    ("api/test_project_feature_flag_user_lists", None, "feature flags"),
    ("api/test_wikis", None, "wikis"),
    ("api/test_snippets", None, "snippets"),
    ("api/test_import_export", None, "import/export"),
    ("api/test_bulk_imports", None, "import/export"),
    ("api/test_services", None, "integrations and hooks"),
    ("api/test_statistics", None, "instance (settings, templates, metrics, license, search, events, ...)"),
    # GitLab 18 ignores `enabled: false` (gitlab-org/gitlab#582271); Gantry lifts the limit.
    ("api/test_project_job_token_scope", r"test_disable_limit_access_to_this_project",
     "xfail upstream for a GitLab bug (passes in Gantry)"),
    ("api/test_project_job_token_scope", None, "CI job token scope"),
    ("api/test_graphql", None, "GraphQL"),
    ("api/test_epics", None, "epics"),
    ("api/test_member_roles", None, "Premium/Ultimate (LDAP/SAML, push rules, member roles, ...)"),
    ("api/test_push_rules", None, "Premium/Ultimate (LDAP/SAML, push rules, member roles, ...)"),
    ("cli/test_cli", r"test_cli_display|test_cli_fields_in_list|test_cli_does_not_print_token", "projects and members"),
    # Expects gitlab.com's 401 for a bad token: passes only where gitlab.com is reachable.
    ("cli/test_cli", r"test_invalid_auth_config", "outside Gantry (calls gitlab.com)"),
    ("cli/test_cli", None, "client basics (auth, config, pagination, CLI)"),
    ("cli/test_cli_artifacts", None, "pipelines, jobs, schedules, triggers, statuses, runners"),
    ("cli/test_cli_files", None, "repository, files, commits"),
    ("cli/test_cli_variables", None, "variables"),
    ("cli/test_cli_users", None, "users"),
    ("cli/test_cli_repository", r"merge_request", "merge requests"),
    ("cli/test_cli_repository", None, "repository, files, commits"),
    ("cli/test_cli_projects", r"registry", "packages and registry"),
    ("cli/test_cli_projects", r"export", "import/export"),
    ("cli/test_cli_projects", None, "instance (settings, templates, metrics, license, search, events, ...)"),
    ("cli/test_cli_packages", None, "packages and registry"),
    ("cli/test_cli_project_feature_flags", None, "feature flags"),
    ("cli/test_cli_project_feature_flag_user_lists", None, "feature flags"),
    ("cli/test_cli_resource_access_tokens", None, "project and group access tokens"),
    ("cli/test_cli_v4", r"project_variable", "variables"),
    ("cli/test_cli_v4", r"deploy_token", "deploy keys and tokens"),
    ("cli/test_cli_v4", r"ci_lint", "pipelines, jobs, schedules, triggers, statuses, runners"),
    ("cli/test_cli_v4", r"branch", "branches, tags, protected branches"),
    ("cli/test_cli_v4", r"issue|label", "issues, labels, milestones, boards"),
    ("cli/test_cli_v4", r"merge_request|accept_request", "merge requests"),
    ("cli/test_cli_v4", r"application_settings|upload_file", "instance (settings, templates, metrics, license, search, events, ...)"),
    ("cli/test_cli_v4", r"group", "groups and members"),
    ("cli/test_cli_v4", r"user|cli_args_not_in_output", "users"),
    ("cli/test_cli_v4", None, "projects and members"),
]
UNMAPPED_AREA = "instance (settings, templates, metrics, license, search, events, ...)"


def area_of(module: str, name: str) -> str:
    base = name.split("[", 1)[0]
    for mod, pattern, area in RULES:
        if mod == module and (pattern is None or re.search(pattern, base)):
            return area
    return UNMAPPED_AREA


# --- Setup -----------------------------------------------------------------------------------


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def default_gantry() -> str:
    if os.environ.get("GANTRY_BIN"):
        return os.environ["GANTRY_BIN"]
    target = os.environ.get("CARGO_TARGET_DIR", str(REPO / "target"))
    return str(pathlib.Path(target) / "debug" / "gantry")


def copy_binary(src: pathlib.Path, cache: pathlib.Path) -> pathlib.Path:
    """A private copy, so that a rebuild of `src` during the run changes nothing."""
    if not src.is_file():
        sys.exit(f"no gantry binary at {src} (build it, or pass --gantry / GANTRY_BIN)")
    dst = cache / "bin" / "gantry"
    dst.parent.mkdir(parents=True, exist_ok=True)
    s = src.stat()
    if not dst.exists() or dst.stat().st_size != s.st_size or dst.stat().st_mtime != s.st_mtime:
        tmp = dst.with_suffix(".tmp")
        shutil.copy2(src, tmp)
        os.replace(tmp, dst)
    return dst


def ensure_venv(cache: pathlib.Path, version: str) -> tuple[pathlib.Path, pathlib.Path]:
    """The sdist (downloaded once, checked) and a venv for it. Returns (venv python, source)."""
    venv = cache / "venv"
    py = venv / "bin" / "python"
    if not py.exists():
        log(f"creating venv {venv}")
        run([sys.executable, "-m", "venv", str(venv)])
    sdist_dir = cache / "sdist"
    sdist = sdist_dir / f"python_gitlab-{version}.tar.gz"
    if not sdist.exists():
        log(f"downloading python-gitlab {version} sdist")
        run([str(py), "-m", "pip", "download", "-q", f"python-gitlab=={version}", "--no-binary", ":all:",
             "--no-deps", "-d", str(sdist_dir)])
    src = cache / "src" / f"python_gitlab-{version}"
    if not (src / "tests" / "functional" / "conftest.py").exists():
        log(f"unpacking {sdist.name}")
        shutil.rmtree(src, ignore_errors=True)
        with tarfile.open(sdist) as tar:
            tar.extractall(cache / "src", filter="data")
        if not (src / "tests" / "functional" / "conftest.py").exists():
            sys.exit(f"{sdist} does not unpack to {src} with tests/functional: corrupt download?")
    stamp = venv / f".installed-{version}"
    if not stamp.exists():
        log("installing python-gitlab and the suite's test requirements into the venv")
        run([str(py), "-m", "pip", "install", "-q", "-r", str(src / "requirements.txt"),
             "-r", str(src / "requirements-test.txt"), f"pytest-timeout=={PYTEST_TIMEOUT_VERSION}", str(sdist)])
        stamp.touch()
    return py, src


def prepare_work(src: pathlib.Path, run_dir: pathlib.Path) -> pathlib.Path:
    """A copy of the sdist whose tests/functional/conftest.py is ours (see conftest_gantry.py)."""
    work = run_dir / "python-gitlab"
    shutil.copytree(src, work, symlinks=True)
    functional = work / "tests" / "functional"
    os.replace(functional / "conftest.py", functional / "upstream_conftest.py")
    shutil.copy(HERE / "conftest_gantry.py", functional / "conftest.py")
    site = work / "_gantry_site"
    site.mkdir()
    shutil.copy(HERE / "reqlog.py", site / "sitecustomize.py")
    return work


def collect(py: pathlib.Path, work: pathlib.Path, env: dict) -> dict[str, list[str]]:
    """module ('api/test_x') -> test names, in file order."""
    out = subprocess.run(
        [str(py), "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "--script-launch-mode=subprocess", "tests/functional"],
        cwd=work, env=env, capture_output=True, text=True,
    )
    modules: dict[str, list[str]] = collections.OrderedDict()
    for line in out.stdout.splitlines():
        m = re.match(r"tests/functional/(\w+/test_\w+)\.py::(\S+)$", line.strip())
        if m:
            modules.setdefault(m.group(1), []).append(m.group(2))
    if not modules:
        sys.exit(f"collection found no tests:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return modules


# --- Running ---------------------------------------------------------------------------------


RUNNING: set[int] = set()  # process groups of the modules running now


def stop_running(signum, frame) -> None:
    """Interrupted (Ctrl-C, a CI timeout): end the modules' process groups, servers included."""
    for pgid in list(RUNNING):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    os._exit(128 + signum)


def postgres_database(base_url: str, name: str, create: bool) -> str:
    """Creates (or drops) the database `name` on the server of `base_url`; its URL."""
    sql = f"CREATE DATABASE {name}" if create else f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    subprocess.run(["psql", base_url, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True,
                   stdout=subprocess.DEVNULL)
    return base_url.rsplit("/", 1)[0] + "/" + name


def run_module(module: str, py: pathlib.Path, work: pathlib.Path, run_dir: pathlib.Path, gantry: pathlib.Path,
               base_env: dict, test_timeout: int, module_timeout: int, postgres: str | None) -> dict:
    mdir = run_dir / "modules" / module.replace("/", "__")
    (mdir / "tmp").mkdir(parents=True)
    env = dict(base_env)
    # On PostgreSQL, each module's server gets a database of its own, dropped afterwards.
    database = f"gantry_conformance_{os.getpid()}_{module.replace('/', '_')}" if postgres else None
    if postgres:
        env["GANTRY_CONFORMANCE_DATABASE_URL"] = postgres_database(postgres, database, create=True)
    env.update(
        GANTRY_CONFORMANCE_BIN=str(gantry),
        GANTRY_CONFORMANCE_DIR=str(mdir),
        GANTRY_CONFORMANCE_REQLOG=str(mdir / "requests.jsonl"),
        # python-gitlab's `temp_dir` fixture is tempfile.gettempdir(): one per module, so that
        # modules side by side do not share /tmp/python-gitlab.cfg.
        TMPDIR=str(mdir / "tmp"),
    )
    cmd = [
        str(py), "-m", "pytest", f"tests/functional/{module}.py",
        "-p", "no:cacheprovider", "-o", "log_cli=false", "-rfE",
        f"--timeout={test_timeout}",
        "--script-launch-mode=subprocess",  # as python-gitlab's tox.ini runs the CLI tests
        f"--junitxml={mdir / 'junit.xml'}", "-o", "junit_family=xunit1",
    ]
    start = time.monotonic()
    timed_out = False
    with open(mdir / "pytest.log", "wb") as out:
        proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        RUNNING.add(proc.pid)
        try:
            proc.wait(timeout=module_timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        # The module's process group: pytest, its gantry serve and runner, CLI processes.
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            if sig == signal.SIGTERM:
                time.sleep(0.5)
        RUNNING.discard(proc.pid)
    duration = time.monotonic() - start
    if not os.environ.get("GANTRY_CONFORMANCE_KEEP_DATA"):
        for name in ("data", "runner-builds"):
            shutil.rmtree(mdir / name, ignore_errors=True)
        if postgres:
            postgres_database(postgres, database, create=False)
    return {"module": module, "dir": str(mdir), "returncode": proc.returncode, "timed_out": timed_out,
            "duration": duration}


def clean_message(msg: str) -> str:
    """An HTML page quoted in an error message (an API call answered by the web UI) shortened."""
    return re.sub(r"<!doctype html>.*?(</html>|$)", "<HTML page>", msg, flags=re.S | re.I)


def parse_junit(path: pathlib.Path) -> dict[str, dict]:
    """test name -> {outcome, message, phase}; failure > error > skipped > passed."""
    results: dict[str, dict] = {}
    if not path.exists():
        return results
    rank = {"passed": 0, "skipped": 1, "errored": 2, "failed": 3}
    for case in ET.parse(path).getroot().iter("testcase"):
        name = case.get("name", "")
        outcome, message, phase = "passed", "", "call"
        for child in case:
            tag = child.tag
            if tag in ("failure", "error", "skipped"):
                msg = child.get("message") or (child.text or "").strip().splitlines()[-1:] or [""]
                msg = msg if isinstance(msg, str) else msg[0]
                new = {"failure": "failed", "error": "errored", "skipped": "skipped"}[tag]
                if rank[new] > rank[outcome]:
                    outcome, message = new, clean_message(msg)
                    if tag == "error":
                        phase = "teardown" if "on teardown" in msg else "setup"
                    if tag == "failure" and "xpass" in msg.lower():
                        phase = "call"
        prev = results.get(name)
        if prev is None or rank[outcome] > rank[prev["outcome"]]:
            results[name] = {"outcome": outcome, "message": message, "phase": phase}
    return results


def read_reqlog(path: pathlib.Path) -> dict[str, list[dict]]:
    """'nodeid|phase' -> failing requests, in order."""
    by_test: dict[str, list[dict]] = collections.defaultdict(list)
    if path.exists():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            by_test[entry.get("test", "")].append(entry)
    return by_test


_HEX = re.compile(r"^[0-9a-f]{32,40}$")


def norm_path(url: str) -> str:
    parsed = urllib.parse.urlsplit(url)
    path = parsed.path
    if path.startswith("/api/v4"):
        path = path[len("/api/v4"):] or "/"
    parts = []
    for seg in path.split("/"):
        if seg.isdigit():
            seg = ":id"
        elif "%2F" in seg.upper() or re.search(r"[0-9a-f]{32}", seg):
            seg = ":name" if "%2F" not in seg.upper() else ":path"
        elif _HEX.match(seg):
            seg = ":sha"
        parts.append(seg)
    return "/".join(parts)


def describe_request(req: dict) -> str:
    where = f"{req['method']} {norm_path(req['url'])}"
    if req.get("status") is None:
        return f"{where} → {req.get('error', 'connection error').split(':')[0]}"
    html = " (HTML)" if "html" in (req.get("content_type") or "") else ""
    return f"{where} → {req['status']}{html}"


def request_detail(req: dict) -> str:
    parsed = urllib.parse.urlsplit(req["url"])
    target = parsed.path + (f"?{parsed.query}" if parsed.query else "")
    if req.get("status") is None:
        return f"{req['method']} {target} → {req.get('error')}"
    body = req.get("body") or ""
    if "html" in (req.get("content_type") or ""):
        body = "<html page>"
    body = " ".join(body.split())[:160]
    sent = req.get("request_body")
    sent = f" body {' '.join(sent.split())[:120]}" if sent else ""
    return f"{req['method']} {target}{sent} → {req['status']} {body}"


def norm_message(msg: str) -> str:
    msg = msg.strip().splitlines()[0] if msg.strip() else "(no message)"
    msg = re.sub(r"[0-9a-f]{32,40}", "…", msg)
    msg = re.sub(r"\b\d+\b", "N", msg)
    return msg[:160]


def analyse(modules: dict[str, list[str]], runs: dict[str, dict]) -> list[dict]:
    tests = []
    for module, names in modules.items():
        info = runs.get(module)
        junit = parse_junit(pathlib.Path(info["dir"]) / "junit.xml") if info else {}
        reqs = read_reqlog(pathlib.Path(info["dir"]) / "requests.jsonl") if info else {}
        module_tests = []
        for name in names:
            nodeid = f"tests/functional/{module}.py::{name}"
            r = junit.get(name)
            if r is None:
                if info is None:
                    r = {"outcome": "not run", "message": "", "phase": ""}
                else:
                    why = "module cut by the module timeout" if info["timed_out"] else "no result (pytest crashed?)"
                    r = {"outcome": "errored", "message": why, "phase": "setup"}
            req = None
            if r["outcome"] in ("failed", "errored"):
                phase = r["phase"] or "call"
                candidates = [e for e in reqs.get(f"{nodeid}|{phase}", [])]
                if candidates:
                    req = candidates[-1]
            module_tests.append({
                "module": module, "name": name, "nodeid": nodeid, "area": area_of(module, name),
                **r, "request": req,
            })
        # A session or module fixture that failed is reported again, from its cache, for every
        # test that uses it: its request was logged for the first of them only.
        by_message = {t["message"]: t["request"] for t in module_tests if t["request"]}
        for t in module_tests:
            if t["outcome"] in ("failed", "errored") and not t["request"]:
                t["request"] = by_message.get(t["message"])
        for t in module_tests:
            t["implemented"] = AREAS[t["area"]]
            if t["outcome"] in ("failed", "errored"):
                if t["request"]:
                    t["cause"] = describe_request(t["request"])
                elif "Timeout" in t["message"]:
                    t["cause"] = "timeout (no failing request)"
                else:
                    t["cause"] = "no failing request: " + norm_message(t["message"])
        tests.extend(module_tests)
    return tests


# --- Report ----------------------------------------------------------------------------------

OUTCOMES = ("passed", "failed", "errored", "skipped")


def counts(tests):
    c = collections.Counter(t["outcome"] for t in tests)
    return [c.get(o, 0) for o in OUTCOMES] + [c.get("not run", 0)]


def md_escape(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def md_code(s: str) -> str:
    """A code span for a table cell: HTML in error messages shows as text."""
    return "`" + " ".join(s.split()).replace("`", "'").replace("|", "\\|") + "`"


def short(s: str, n: int) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


def module_table(tests, runs, implemented: bool) -> list[str]:
    lines = ["| module | areas | passed | failed | errored | skipped | time | first failing test: error, request |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    by_module = collections.OrderedDict()
    for t in tests:
        if t["implemented"] == implemented:
            by_module.setdefault(t["module"], []).append(t)
    for module, ts in by_module.items():
        p, f, e, s, n = counts(ts)
        areas = ", ".join(sorted({t["area"] for t in ts}))
        first = next((t for t in ts if t["outcome"] in ("failed", "errored")), None)
        if first:
            detail = f"`{first['name']}`: {md_code(short(first['message'], 160))}"
            if first["request"]:
                detail += f" — {md_code(short(request_detail(first['request']), 200))}"
        else:
            detail = "—"
        info = runs.get(module)
        dur = f"{info['duration']:.0f} s" + (" (cut)" if info["timed_out"] else "") if info else "not run"
        lines.append(f"| {module} | {md_escape(short(areas, 80))} | {p} | {f} | {e} | {s} | {dur} | {detail} |")
    return lines


def area_table(tests, implemented: bool) -> list[str]:
    lines = ["| area | tests | passed | failed | errored | skipped |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for area, impl in AREAS.items():
        ts = [t for t in tests if t["area"] == area]
        if impl != implemented or not ts:
            continue
        p, f, e, s, n = counts(ts)
        lines.append(f"| {area} | {len(ts)} | {p} | {f} | {e} | {s} |")
    return lines


def cause_ranking(tests) -> list[tuple[str, int, int, str]]:
    causes = collections.defaultdict(list)
    for t in tests:
        if t["outcome"] in ("failed", "errored"):
            causes[t["cause"]].append(t)
    ranked = sorted(causes.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    out = []
    for cause, ts in ranked:
        example = next((t for t in ts if t["request"]), ts[0])
        sample = request_detail(example["request"]) if example["request"] else example["message"]
        out.append((cause, sum(1 for t in ts if t["implemented"]), len(ts), sample))
    return out


def write_report(path: pathlib.Path, tests, runs, meta) -> None:
    impl = [t for t in tests if t["implemented"]]
    rest = [t for t in tests if not t["implemented"]]
    p, f, e, s, n = counts(tests)
    ip, if_, ie, is_, _ = counts(impl)
    api = [t for t in tests if t["module"].startswith("api/")]
    cli = [t for t in tests if t["module"].startswith("cli/")]
    lines = [
        "# Compatibility with python-gitlab's functional tests",
        "",
        f"python-gitlab {meta['version']}'s own functional test suite (`tests/functional`, {len(api)} API and "
        f"{len(cli)} CLI tests), unmodified, against Gantry. Produced by `{meta['command']}` "
        "(scripts/conformance/run.py): it downloads python-gitlab's sdist at the pinned version, replaces only "
        "the Docker parts of its conftest (server start, admin token, runner registration: see "
        "scripts/conformance/conftest_gantry.py), and runs each test module against a fresh `gantry serve` "
        f"(SQLite, fresh data directory) with a {meta['test_timeout']} s per-test timeout. "
        "Modules run whole; the area table in run.py sorts their tests into areas Gantry implements and areas "
        "it does not yet. `scripts/conformance.sh --implemented-only` runs the modules with tests of implemented "
        "areas and fails when one of those tests fails.",
        "",
    ]
    if meta.get("assume"):
        lines += ["**Diagnosis run, not a measurement:** a proxy answered these routes itself with 200: "
                  + ", ".join(md_code(a) for a in meta["assume"]) + ".", ""]
    lines += [
        f"- Date: {meta['date']}",
        f"- python-gitlab: {meta['version']} (sdist from PyPI), pytest {meta.get('pytest', '?')}",
        f"- Gantry: `{meta['gantry_version']}`, binary {meta['gantry_source']} (modified {meta['gantry_mtime']})",
        f"- Whole run: **{meta['wall']:.0f} s** wall clock ({meta['jobs']} modules at a time on {meta['cpus']} CPUs; "
        f"{meta['sum']:.0f} s if run one after another, including {meta['modules']} server starts)",
        "",
        "## Totals",
        "",
        "| | tests | passed | failed | errored | skipped/xfail |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        f"| implemented areas | {len(impl)} | {ip} | {if_} | {ie} | {is_} |",
        f"| not yet | {len(rest)} | {counts(rest)[0]} | {counts(rest)[1]} | {counts(rest)[2]} | {counts(rest)[3]} |",
        f"| all | {len(tests)} | {p} | {f} | {e} | {s} |",
        "",
    ]
    if n:
        lines += [f"{n} tests were not run (modules left out of this run).", ""]
    lines += ["## Areas Gantry implements", ""] + area_table(tests, True) + [""]
    lines += module_table(tests, runs, True) + [""]
    lines += ["## Areas Gantry does not implement yet", ""] + area_table(tests, False) + [""]
    lines += module_table(tests, runs, False) + [""]
    lines += [
        "## Most common failure causes",
        "",
        "The request that failed last in the failing phase of each failed or errored test, paths normalised "
        "(`:id`, `:path`, `:name`); `(HTML)` marks an HTML answer to an API call. A fixture failure counts for "
        "every test it blocks. A failure in the session fixture `gl` (python-gitlab's reset of the server before "
        "the first test) blocks every test, the offline ones too (their autouse fixtures ask for the plan, "
        "through `gl`); to see what it hides, answer the blocking route through a proxy: "
        "`scripts/conformance.sh --assume 'GET /api/v4/topics=[]' --assume 'GET /api/v4/variables=[]'` "
        "(`--assume-query-attributes` also moves POST/PUT query parameters into the body); such a diagnosis "
        "run writes its report to its run folder, never here.",
        "",
        "| # | cause | tests (implemented areas) | tests (all) | example |",
        "| ---: | --- | ---: | ---: | --- |",
    ]
    for i, (cause, ni, na, sample) in enumerate(cause_ranking(tests)[:40], 1):
        lines.append(f"| {i} | {md_code(cause)} | {ni} | {na} | {md_code(short(sample, 180))} |")
    lines += ["", "<details><summary>Every failed or errored test</summary>", "",
              "| test | outcome | area | error | request |", "| --- | --- | --- | --- | --- |"]
    for t in tests:
        if t["outcome"] in ("failed", "errored"):
            req = md_code(short(request_detail(t["request"]), 160)) if t["request"] else "—"
            lines.append(f"| {t['module']}::{md_escape(t['name'])} | {t['outcome']} | {t['area']} | "
                         f"{md_code(short(t['message'], 140))} | {req} |")
    lines += ["", "</details>", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


# --- Main ------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gantry", default=default_gantry(), help="gantry binary (default: $GANTRY_BIN, else "
                    "$CARGO_TARGET_DIR/debug/gantry, else target/debug/gantry); copied into the cache first")
    ap.add_argument("--cache", default=os.environ.get("GANTRY_CONFORMANCE_CACHE", "/var/cache/gantry-conformance"))
    ap.add_argument("--version", default=PYTHON_GITLAB_VERSION, help="python-gitlab version (pinned)")
    ap.add_argument("--jobs", "-j", type=int, default=min(4, os.cpu_count() or 1), help="modules at a time")
    ap.add_argument("--timeout", type=int, default=60, help="per-test timeout, seconds (pytest-timeout)")
    ap.add_argument("--module-timeout", type=int, default=900, help="per-module timeout, seconds")
    ap.add_argument("--implemented-only", action="store_true",
                    help="run only modules with tests of implemented areas; exit 1 when one of those tests fails")
    ap.add_argument("--modules", help="comma-separated module names (test_users or api/test_users) to run")
    ap.add_argument("--database-url", help="a PostgreSQL URL (postgres://user:password@host:port/db): each "
                    "module's server gets a fresh database on that server instead of SQLite")
    ap.add_argument("--assume", action="append", default=[], metavar="'METHOD /api/v4/path=JSON'",
                    help="diagnosis only: answer this route with 200 and JSON through a proxy, to see what a "
                    "blocker hides; the report then goes to the run folder, never to COMPATIBILITY.md")
    ap.add_argument("--assume-query-attributes", action="store_true",
                    help="diagnosis only: the proxy moves the query parameters of POST/PUT into the JSON body")
    ap.add_argument("--output", help="report path (default: COMPATIBILITY.md at the repository root for a "
                    "full run; <run folder>/COMPATIBILITY.md otherwise)")
    args = ap.parse_args()

    cache = pathlib.Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    gantry = copy_binary(pathlib.Path(args.gantry), cache)
    source_mtime = datetime.datetime.fromtimestamp(pathlib.Path(args.gantry).stat().st_mtime, datetime.timezone.utc)
    py, src = ensure_venv(cache, args.version)

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = cache / "runs" / stamp
    run_dir.mkdir(parents=True)
    old = sorted((cache / "runs").iterdir())[:-10]  # keep the last ten runs
    for d in old:
        shutil.rmtree(d, ignore_errors=True)
    work = prepare_work(src, run_dir)

    env = dict(os.environ)
    for var in ("PYTHON_GITLAB_CFG", "GITLAB_PRIVATE_TOKEN", "GITLAB_URL", "CI_JOB_TOKEN", "CI_SERVER_URL",
                "PYTEST_ADDOPTS", "GITHUB_ACTIONS"):
        env.pop(var, None)
    env["PATH"] = f"{py.parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(work / "_gantry_site")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["COLUMNS"] = "240"  # readable short test summaries in pytest.log
    env.pop("GANTRY_CONFORMANCE_ASSUME", None)
    env.pop("GANTRY_CONFORMANCE_QUERY_TO_BODY", None)
    if args.assume:
        env["GANTRY_CONFORMANCE_ASSUME"] = ";".join(args.assume)
    if args.assume_query_attributes:
        env["GANTRY_CONFORMANCE_QUERY_TO_BODY"] = "1"
        args.assume.append("POST/PUT query parameters moved into the JSON body")

    modules = collect(py, work, env)
    selected = list(modules)
    if args.modules:
        wanted = {m.strip() for m in args.modules.split(",") if m.strip()}
        selected = [m for m in selected if m in wanted or m.split("/")[1] in wanted]
    if args.implemented_only:
        selected = [m for m in selected if any(AREAS[area_of(m, n)] for n in modules[m])]
    # Longest modules first, so that the slow ones do not end up last alone.
    selected.sort(key=lambda m: -len(modules[m]))
    gantry_version = subprocess.run([str(gantry), "--version"], capture_output=True, text=True).stdout.strip()
    log(f"{sum(len(v) for v in modules.values())} tests in {len(modules)} modules; running {len(selected)} "
        f"modules, {args.jobs} at a time, against {gantry_version} ({args.gantry}); run folder {run_dir}")

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop_running)
    runs: dict[str, dict] = {}
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(run_module, m, py, work, run_dir, gantry, env, args.timeout, args.module_timeout,
                               args.database_url): m
                   for m in selected}
        for fut in concurrent.futures.as_completed(futures):
            info = fut.result()
            runs[info["module"]] = info
            r = parse_junit(pathlib.Path(info["dir"]) / "junit.xml")
            c = collections.Counter(v["outcome"] for v in r.values())
            log(f"{info['module']}: {c.get('passed', 0)} passed, {c.get('failed', 0)} failed, "
                f"{c.get('errored', 0)} errored, {c.get('skipped', 0)} skipped in {info['duration']:.0f} s"
                + (" (CUT by the module timeout)" if info["timed_out"] else ""))
    wall = time.monotonic() - start

    tests = analyse(modules, runs)
    ran = [t for t in tests if t["outcome"] != "not run"]
    pytest_version = subprocess.run([str(py), "-c", "import pytest; print(pytest.__version__)"],
                                    capture_output=True, text=True).stdout.strip()
    command = "scripts/conformance.sh" + "".join(f" {a}" for a in sys.argv[1:])
    meta = {
        "version": args.version, "command": command, "date": datetime.date.today().isoformat(),
        "gantry_version": gantry_version, "gantry_source": args.gantry,
        "gantry_mtime": source_mtime.strftime("%Y-%m-%d %H:%M UTC"), "wall": wall,
        "sum": sum(r["duration"] for r in runs.values()), "jobs": args.jobs, "cpus": os.cpu_count(),
        "modules": len(runs), "test_timeout": args.timeout, "pytest": pytest_version, "assume": args.assume,
    }
    (run_dir / "results.json").write_text(json.dumps({"meta": meta, "runs": runs, "tests": tests}, indent=1))
    full = not (args.modules or args.implemented_only or args.assume or args.database_url)
    output = pathlib.Path(args.output) if args.output else (REPO / "COMPATIBILITY.md" if full else run_dir / "COMPATIBILITY.md")
    write_report(output, tests, runs, meta)

    p, f, e, s, n = counts(ran)
    impl = [t for t in ran if t["implemented"]]
    ip, if_, ie, is_, _ = counts(impl)
    log(f"all: {p} passed, {f} failed, {e} errored, {s} skipped of {len(ran)} in {wall:.0f} s")
    log(f"implemented areas: {ip} passed, {if_} failed, {ie} errored, {is_} skipped of {len(impl)}")
    log(f"report: {output}; logs and results.json: {run_dir}")
    if args.implemented_only and (if_ or ie):
        for t in impl:
            if t["outcome"] in ("failed", "errored"):
                print(f"  {t['outcome'].upper()} {t['nodeid']}: {short(t['message'], 150)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
