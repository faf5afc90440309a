#!/usr/bin/env python3
"""Writes a `git fast-import` stream of a repository with a long history, for benchmarks.

Usage: make-history.py COMMITS | git -C repo.git fast-import --quiet

The tree has 20 folders of 12 Rust-like files each plus a README; every commit changes one
to three files (a line edited or appended), so files have long, realistic histories. The
output is the same for the same COMMITS (fixed seed and dates).
"""

import random
import sys

FOLDERS = 20
FILES = 12


def file_text(folder, number, edits):
    lines = [f"//! Module {folder}, part {number}.", ""]
    for n in range(40 + edits):
        lines.append(f"pub fn function_{n}(value: u64) -> u64 {{ value.wrapping_mul({n + 3}) ^ {folder * 1000 + number} }}")
    return "\n".join(lines) + "\n"


def main():
    commits = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    rng = random.Random(7)
    out = sys.stdout.buffer
    edits = {(f, n): 0 for f in range(FOLDERS) for n in range(FILES)}
    when = 1_600_000_000

    def blob(path, text):
        data = text.encode()
        out.write(f"M 100644 inline {path}\n".encode())
        out.write(f"data {len(data)}\n".encode())
        out.write(data)
        out.write(b"\n")

    for index in range(commits):
        when += rng.randint(60, 3600)
        author = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Barbara Liskov"][index % 4]
        email = author.split()[0].lower() + "@example.com"
        message = f"Change {index}: tune the functions\n".encode()
        out.write(b"commit refs/heads/main\n")
        out.write(f"author {author} <{email}> {when} +0000\n".encode())
        out.write(f"committer {author} <{email}> {when} +0000\n".encode())
        out.write(f"data {len(message)}\n".encode() + message)
        if index == 0:
            blob("README.md", "# Bench\n\nA repository with a long history.\n")
            for folder, number in edits:
                blob(f"src/module{folder:02}/file{number:02}.rs", file_text(folder, number, 0))
        else:
            for _ in range(rng.randint(1, 3)):
                key = (rng.randrange(FOLDERS), rng.randrange(FILES))
                edits[key] += 1
                blob(f"src/module{key[0]:02}/file{key[1]:02}.rs", file_text(key[0], key[1], edits[key] % 200))
        out.write(b"\n")


if __name__ == "__main__":
    main()
