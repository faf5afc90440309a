#!/usr/bin/env python3
"""Plan at scale (issue 16's figures) for a `gantry serve` binary (argv[1]), on SQLite and on
PostgreSQL in turn.

Each database gets one private project of 100,000 issues and 500,000 comments (ISSUES, COMMENTS
to change them): issue #1 has 200 comments, the others share the rest at random; each issue
carries one of five labels, a fifth of them are closed, and titles, descriptions and comments
are words drawn from a vocabulary of 2,000 with Zipf's law (a few words are everywhere, most are
rare), from a fixed seed. The project, its labels and a board with one list per label are made
through the API; the rows are written straight into the database (through the API they would
take hours), which keeps its search indexes itself (SQLite's FTS5 triggers, PostgreSQL's
expression indexes), then analysed.

Then wrk, at 8 connections for WRK_SECONDS (default 10), as a Reporter of the project (no
administrator shortcut), on:
 - the issue list: `GET /api/v4/projects/:id/issues` (20 newest) and the issue list page;
 - an issue with 200 comments: its page, and `GET …/issues/1/notes?per_page=100`;
 - the board page: five label lists with the Open and Closed columns;
 - search: `GET /api/v4/projects/:id/search?scope=issues` and `scope=notes` for a rare, a
   middling and the commonest word, and the search page.
 - the board page right after a change to one of its issues (one request at a time, ROUNDS
   times): a board's columns are remembered until their issues change, so this is what the
   first view after a change costs.
Printed as a Markdown table: requests/s, median and p99 (ms); then the database's size per issue
(its comments included)."""
import http.client
import os
import random
import sqlite3
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Server, sign_in, wrk_latency  # noqa: E402

BIN = sys.argv[1]
ISSUES = int(os.environ.get("ISSUES", "100000"))
COMMENTS = int(os.environ.get("COMMENTS", "500000"))
SECONDS = os.environ.get("WRK_SECONDS", "10")
ROUNDS = int(os.environ.get("ROUNDS", "40"))
POSTGRES = os.environ.get("BENCH_DATABASE_URL", "postgres://gantry:gantry@127.0.0.1:5432/postgres")
LABELS = ["todo", "doing", "review", "blocked", "done"]
VOCABULARY = 2000


def vocabulary():
    """VOCABULARY made-up words, the first the commonest."""
    rng = random.Random(7)
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "ve", "zo", "pi", "sa", "do", "fe", "gu", "hi", "jo", "bu"]
    words = set()
    while len(words) < VOCABULARY:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(words, key=lambda w: (len(w), w))


WORDS = vocabulary()
WEIGHTS = [1 / (rank + 1) for rank in range(VOCABULARY)]
# The commonest word, one of middling frequency, and a rare one.
SEARCHES = {"common": WORDS[0], "middling": WORDS[60], "rare": WORDS[1500]}


def sentence(rng, count):
    return " ".join(rng.choices(WORDS, WEIGHTS, k=count))


def rows(project, author, labels):
    """The issues, their label links and the comments, as tuples for the database."""
    rng = random.Random(42)
    start = int(time.time() * 1000) - ISSUES * 60_000
    issues, links, notes = [], [], []
    for iid in range(1, ISSUES + 1):
        created = start + iid * 60_000
        title = f"{sentence(rng, 3).capitalize()} {iid}"
        description = f"{sentence(rng, 12)}.\n\n{sentence(rng, 20)}."
        state = "closed" if iid % 5 == 0 else "opened"
        issues.append((iid, project, iid, title, description, author, state, created, created, iid * 512))
        links.append((iid, labels[iid % len(labels)], created))
    owners = [1] * min(200, COMMENTS) + [rng.randint(2, ISSUES) for _ in range(COMMENTS - min(200, COMMENTS))]
    for number, issue in enumerate(owners, start=1):
        created = start + issue * 60_000 + number
        notes.append((number, project, "Issue", issue, f"{rng.getrandbits(160):040x}", author,
                      f"{sentence(rng, 15).capitalize()}.", 0, created, created, 0))
    return issues, links, notes


ISSUE_COLUMNS = "id, project_id, iid, title, description, author_id, state, created_at, updated_at, relative_position"
LINK_COLUMNS = "issue_id, label_id, created_at"
NOTE_COLUMNS = ("id, project_id, noteable_type, noteable_id, discussion_id, author_id, body, system, created_at, "
                "updated_at, thread")


def load_sqlite(path, project, author, labels):
    issues, links, notes = rows(project, author, labels)
    db = sqlite3.connect(path, timeout=60)
    db.execute("PRAGMA foreign_keys = ON")
    with db:
        db.executemany(f"INSERT INTO issues ({ISSUE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", issues)
        db.executemany(f"INSERT INTO label_links ({LINK_COLUMNS}) VALUES (?, ?, ?)", links)
        db.executemany(f"INSERT INTO notes ({NOTE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", notes)
        db.execute("INSERT INTO internal_ids (project_id, usage, last_value) VALUES (?, 'issues', ?) "
                   "ON CONFLICT (project_id, usage) DO UPDATE SET last_value = excluded.last_value", (project, ISSUES))
    db.execute("ANALYZE")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def copy(url, table, columns, tuples):
    """COPY the tuples into a PostgreSQL table (tab-separated text)."""
    def field(value):
        text = str(value)
        return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    data = "".join("\t".join(field(v) for v in row) + "\n" for row in tuples)
    subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-c", f"COPY {table} ({columns}) FROM STDIN"],
                   input=data, text=True, check=True, capture_output=True)


def psql(url, sql):
    return subprocess.run(["psql", url, "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True,
                          capture_output=True, text=True).stdout.strip()


def load_postgres(url, project, author, labels):
    issues, links, notes = rows(project, author, labels)
    copy(url, "issues", ISSUE_COLUMNS, issues)
    copy(url, "label_links", LINK_COLUMNS, links)
    copy(url, "notes", NOTE_COLUMNS, notes)
    for table in ["issues", "notes"]:
        psql(url, f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
    psql(url, "INSERT INTO internal_ids (project_id, usage, last_value) VALUES "
              f"({project}, 'issues', {ISSUES}) ON CONFLICT (project_id, usage) DO UPDATE SET last_value = excluded.last_value")
    psql(url, "VACUUM ANALYZE")


def prepare(server):
    """The project, its labels and board, and a Reporter `reader` with a token and a session."""
    server.admin("create-user", "--username", "reader", "--email", "reader@example.com", "--password-stdin",
                 stdin="a long password\n")
    token = server.admin("create-token", "--username", "reader", "--name", "bench", "--scopes", "api").strip()
    reader = server.api("GET", "/api/v4/users?username=reader")[0]
    root = server.api("GET", "/api/v4/user")
    project = server.api("POST", "/api/v4/projects", {"name": "Plan", "visibility": "private"})
    pid = project["id"]
    server.api("POST", f"/api/v4/projects/{pid}/members", {"user_id": reader["id"], "access_level": 20})
    labels = [server.api("POST", f"/api/v4/projects/{pid}/labels", {"name": name, "color": "#428bca"})["id"]
              for name in LABELS]
    board = server.api("POST", f"/api/v4/projects/{pid}/boards", {"name": "Flow"})
    for label in labels:
        server.api("POST", f"/api/v4/projects/{pid}/boards/{board['id']}/lists", {"label_id": label})
    return project, root["id"], labels, board["id"], token


def targets(server, project, board, token, cookie):
    pid, path = project["id"], project["path_with_namespace"]
    api = [f"PRIVATE-TOKEN: {token}"]
    page = [f"Cookie: {cookie}"]
    found = [
        ("issue list (API, 20 newest)", f"/api/v4/projects/{pid}/issues?per_page=20", api),
        ("issue list page", f"/{path}/-/issues", page),
        ("issue with 200 comments: page", f"/{path}/-/issues/1", page),
        ("issue with 200 comments: notes API (100)", f"/api/v4/projects/{pid}/issues/1/notes?per_page=100", api),
        ("board page, 5 lists", f"/{path}/-/boards/{board}", page),
    ]
    for kind, word in SEARCHES.items():
        query = urllib.parse.urlencode({"search": word})
        found.append((f"search issues, {kind} word (API)", f"/api/v4/projects/{pid}/search?scope=issues&{query}", api))
        found.append((f"search comments, {kind} word (API)", f"/api/v4/projects/{pid}/search?scope=notes&{query}", api))
    query = urllib.parse.urlencode({"search": SEARCHES["middling"], "project_id": pid, "scope": "issues"})
    found.append(("search page, middling word", f"/search?{query}", page))
    return [(name, server.base + url, headers) for name, url, headers in found]


def after_changes(server, project, board, cookie):
    """Median and p99 (ms) of the board page, each view right after a change of an issue's
    weight (which every column's version counts)."""
    pid, path = project["id"], project["path_with_namespace"]
    times = []
    for round_ in range(ROUNDS):
        server.api("PUT", f"/api/v4/projects/{pid}/issues/2", {"weight": round_})
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        started = time.perf_counter()
        connection.request("GET", f"/{path}/-/boards/{board}", headers={"Cookie": cookie})
        response = connection.getresponse()
        response.read()
        times.append((time.perf_counter() - started) * 1000)
        connection.close()
        if response.status != 200:
            sys.exit(f"the board answered {response.status}")
    times.sort()
    return times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.99))]


def measure(label, server, load):
    project, author, labels, board, token = prepare(server)
    started = time.time()
    load(project["id"], author, labels)
    loaded = time.time() - started
    cookie = sign_in(server, "reader")
    results = []
    for name, url, headers in targets(server, project, board, token, cookie):
        wrk_latency(url, headers, 8, 2)  # warm the caches
        results.append((name, *wrk_latency(url, headers, 8, SECONDS)))
        print(f"{label}: {name}: {results[-1][1]:.0f} req/s, median {results[-1][2]:.1f} ms, "
              f"p99 {results[-1][3]:.1f} ms", file=sys.stderr, flush=True)
    median, p99 = after_changes(server, project, board, cookie)
    results.append(("board page right after a change (one at a time)", None, median, p99))
    print(f"{label}: board after a change: median {median:.1f} ms, p99 {p99:.1f} ms", file=sys.stderr, flush=True)
    return label, loaded, results


def main():
    runs = []
    server = Server(BIN, "--no-builtin-runner")
    try:
        path = f"{server.data}/gantry.db"
        label, loaded, results = measure("SQLite", server, lambda p, a, l: load_sqlite(path, p, a, l))
        size = sum(os.path.getsize(f"{path}{end}") for end in ["", "-wal"] if os.path.exists(f"{path}{end}"))
        runs.append((label, loaded, results, size))
    finally:
        server.stop()
    name = f"gantry_bench_plan_{os.getpid()}"
    psql(POSTGRES, f"CREATE DATABASE {name}")
    url = POSTGRES.rsplit("/", 1)[0] + "/" + name
    server = Server(BIN, "--no-builtin-runner", database_url=url)
    try:
        label, loaded, results = measure("PostgreSQL", server, lambda p, a, l: load_postgres(url, p, a, l))
        size = int(psql(url, "SELECT pg_database_size(current_database())"))
        runs.append((label, loaded, results, size))
    finally:
        server.stop()
        psql(POSTGRES, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    print(f"{ISSUES} issues, {COMMENTS} comments; wrk at 8 connections for {SECONDS} s; words searched: "
          + ", ".join(f"{kind} `{word}`" for kind, word in SEARCHES.items()) + "\n")
    print("| | " + " | ".join(f"{label} req/s | median ms | p99 ms" for label, *_ in runs) + " |")
    print("|---|" + "---|---|---|" * len(runs))
    for index, (name, *_) in enumerate(runs[0][2]):
        cells = []
        for _, _, results, _ in runs:
            _, rate, median, p99 = results[index]
            cells.append(f"{'–' if rate is None else f'{rate:.0f}'} | {median:.1f} | {p99:.1f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    print()
    for label, loaded, _, size in runs:
        print(f"- {label}: database {size / 1e6:.0f} MB, {size / ISSUES / 1024:.1f} KiB per issue with its "
              f"{COMMENTS / ISSUES:.0f} comments; rows written in {loaded:.0f} s")


if __name__ == "__main__":
    main()
