"""Searches Gantry with python-gitlab as a GitLab user's script would: the instance, a group and
a project, every scope Gantry holds (code, commits, projects, users, issues, comments, wiki
pages), a ref, pagination and a refused scope; and the events of what the script did."""
import os

import gitlab
from gitlab.const import SearchScope

gl = gitlab.Gitlab(os.environ["GANTRY_URL"], private_token=os.environ["GANTRY_TOKEN"])
gl.auth()

group = gl.groups.create({"name": "Finders", "path": "finders", "visibility": "public"})
project = gl.projects.create({"name": "Lookup", "path": "lookup", "namespace_id": group.id})
project.files.create({"file_path": "src/hay.txt", "branch": "main", "content": "hay\nhay\nthe Needle\nhay\n",
                      "commit_message": "Hide the needle"})
project.branches.create({"branch": "release/1", "ref": "main"})
project.files.create({"file_path": "src/more.txt", "branch": "main", "content": "another needle\n",
                      "commit_message": "Add another needle"})

blobs = gl.search(SearchScope.BLOBS, "needle")
assert sorted(b["path"] for b in blobs) == ["src/hay.txt", "src/more.txt"], blobs
hay = next(b for b in blobs if b["path"] == "src/hay.txt")
assert hay["startline"] == 1 and hay["data"] == "hay\nhay\nthe Needle\nhay\n", hay
assert hay["project_id"] == project.id and hay["ref"] == "main" and hay["basename"] == "src/hay", hay

assert [p["path_with_namespace"] for p in gl.search(SearchScope.PROJECTS, "look")] == ["finders/lookup"]
assert [u["username"] for u in gl.search(SearchScope.USERS, "roo")] == ["root"]
commits = gl.search(SearchScope.COMMITS, "NEEDLE")
assert sorted(c["title"] for c in commits) == ["Add another needle", "Hide the needle"], commits

assert len(group.search(SearchScope.BLOBS, "needle")) == 2
assert [p["name"] for p in group.search(SearchScope.PROJECTS, "lookup")] == ["Lookup"]
assert [c["title"] for c in project.search(SearchScope.COMMITS, "hide")] == ["Hide the needle"]
assert [u["username"] for u in group.search(SearchScope.USERS, "roo")] == ["root"], "the group's members"
assert [u["username"] for u in project.search(SearchScope.USERS, "ROOT")] == ["root"], "inherited members"
assert project.search(SearchScope.USERS, "nobody-here") == []
at_release = project.search(SearchScope.BLOBS, "needle", ref="release/1")
assert [b["path"] for b in at_release] == ["src/hay.txt"], at_release
assert at_release[0]["ref"] == "release/1", at_release

pages = list(gl.search(SearchScope.BLOBS, "needle", per_page=1, iterator=True))
assert len(pages) == 2, pages

# Issues, comments and wiki pages, found by their words.
lost = project.issues.create({"title": "The needle is lost", "description": "Somewhere in the hay."})
lost.notes.create({"body": "Found a needle, maybe."})
project.issues.create({"title": "Unrelated", "description": "Nothing to find."})
project.wikis.create({"title": "Needles", "content": "How we look:\n\nfind the needles first."})
assert [i["title"] for i in gl.search(SearchScope.ISSUES, "needle")] == ["The needle is lost"]
assert [i["iid"] for i in group.search(SearchScope.ISSUES, "hay")] == [lost.iid]
notes = project.search(SearchScope.PROJECT_NOTES, "needle")
assert [n["body"] for n in notes] == ["Found a needle, maybe."] and notes[0]["noteable_iid"] == lost.iid, notes
wiki = project.search(SearchScope.WIKI_BLOBS, "needles")
assert [w["path"] for w in wiki] == ["Needles.md"] and "find the needles first." in wiki[0]["data"], wiki
assert project.search(SearchScope.ISSUES, "haystack") == []

# What the script did is in the activity.
actions = [e.action_name for e in project.events.list(get_all=True)]
assert actions[:3] == ["opened", "commented on", "opened"], actions
assert "pushed to" in actions and "pushed new" in actions, actions
assert [e.target_title for e in gl.events.list(action="commented")] == ["The needle is lost"]

try:
    project.search("projects", "lookup")
    raise SystemExit("a project search for projects was accepted")
except gitlab.exceptions.GitlabSearchError as error:
    assert error.response_code == 400, error

print("all python-gitlab search checks passed")
