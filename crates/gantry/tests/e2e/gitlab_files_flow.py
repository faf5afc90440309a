"""Writes files and commits through Gantry's API with python-gitlab, as a GitLab user's script
would: files created, updated and deleted, one commit of three actions, and a Developer's
commit to a protected branch refused with the push policy's words."""
import os

import gitlab
from gitlab.const import AccessLevel

gl = gitlab.Gitlab(os.environ["GANTRY_URL"], private_token=os.environ["GANTRY_TOKEN"])
dev_gl = gitlab.Gitlab(os.environ["GANTRY_URL"], private_token=os.environ["GANTRY_DEV_TOKEN"])

project = gl.projects.create({"name": "Files", "path": "files"})
# The first file of an empty repository makes its default branch.
project.files.create({"file_path": "docs/a.md", "branch": "main", "content": "one\n", "commit_message": "Add a"})
f = project.files.get(file_path="docs/a.md", ref="main")
assert f.decode() == b"one\n", f.decode()
f.content = "two\n"
f.save(branch="main", commit_message="Update a")
assert project.files.get(file_path="docs/a.md", ref="main").decode() == b"two\n"
project.files.create({"file_path": "old.txt", "branch": "main", "content": "old\n", "commit_message": "Add old"})
project.files.delete(file_path="old.txt", commit_message="Remove old", branch="main")

commit = project.commits.create({
    "branch": "main",
    "commit_message": "Three actions",
    "actions": [
        {"action": "create", "file_path": "b.txt", "content": "b\n"},
        {"action": "update", "file_path": "docs/a.md", "content": "three\n"},
        {"action": "move", "file_path": "docs/c.md", "previous_path": "docs/a.md"},
    ],
})
assert commit.title == "Three actions", commit.title
# The moved file's text changed entirely: git sees a deletion and a new file, not a rename.
changed = {(d["new_path"], d["new_file"], d["deleted_file"]) for d in commit.diff()}
assert changed == {("b.txt", True, False), ("docs/a.md", False, True), ("docs/c.md", True, False)}, changed

dev = gl.users.list(username="dev")[0]
project.members.create({"user_id": dev.id, "access_level": AccessLevel.DEVELOPER})
dev_project = dev_gl.projects.get(project.id)
try:
    dev_project.files.create({"file_path": "dev.txt", "branch": "main", "content": "x", "commit_message": "Dev"})
    raise SystemExit("a Developer committed to the protected default branch")
except gitlab.exceptions.GitlabCreateError as error:
    assert error.response_code == 403, error.response_code
    print("refused:", error.error_message)
dev_project.files.create({
    "file_path": "dev.txt", "branch": "dev-work", "start_branch": "main", "content": "x\n", "commit_message": "Dev",
})
print("all python-gitlab file checks passed")
