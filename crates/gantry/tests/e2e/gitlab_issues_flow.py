"""Plans work in Gantry with python-gitlab as a GitLab user's script would: labels of a group and
a project, issues with labels, an assignee, a weight and a due date, the list's filters
(state, labels, assignee_username, search, confidential) and its pages, comments and the
issue's participants, closing and reopening with state_event (each leaving a system note), a
label renamed and deleted, an issue deleted; milestones of the project and the group, issues put
in them and listed by them, a milestone closed, reopened, promoted to the group and deleted;
boards of the project and the group with lists made, moved and deleted, issues reordered, and
epics of the group with child issues and a nested epic, the wiki's pages written, moved, given
an attachment and deleted, and a file uploaded for issues."""
import os

import gitlab

url = os.environ["GANTRY_URL"]
gl = gitlab.Gitlab(url, private_token=os.environ["GANTRY_TOKEN"])
gl.auth()
dev_gl = gitlab.Gitlab(url, private_token=os.environ["GANTRY_DEV_TOKEN"])
dev_gl.auth()

group = gl.groups.create({"name": "Planners", "path": "planners"})
project = gl.projects.create({"name": "Roadmap", "path": "roadmap", "namespace_id": group.id})
dev = gl.users.list(username="dev")[0]
project.members.create({"user_id": dev.id, "access_level": 30})

# Labels: the group's reach its projects.
group.labels.create({"name": "team", "color": "#123456"})
bug = project.labels.create({"name": "bug", "color": "#d9534f", "description": "Something is broken"})
assert bug.text_color in ("#000000", "#ffffff") and bug.is_project_label, bug
project.labels.create({"name": "feature", "color": "#5cb85c"})
project.labels.create({"name": "obsolete", "color": "#eeeeee"})
names = sorted(label.name for label in project.labels.list(get_all=True))
assert names == ["bug", "feature", "obsolete", "team"], names
assert [label.name for label in group.labels.list(get_all=True)] == ["team"]
assert project.labels.get("bug").description == "Something is broken"
wontfix = project.labels.get("obsolete")
wontfix.new_name = "wontfix"
wontfix.save()
assert project.labels.get("wontfix").color == "#eeeeee"
project.labels.delete("wontfix")
assert sorted(label.name for label in project.labels.list(get_all=True)) == ["bug", "feature", "team"]

# Issues.
crash = project.issues.create({
    "title": "Crash on start",
    "description": "It crashes.\n\n- [x] reproduce\n- [ ] fix",
    "labels": ["bug", "team"],
    "assignee_ids": [dev.id],
    "weight": 3,
    "due_date": "2026-12-31",
})
assert crash.iid == 1 and crash.state == "opened", crash
assert sorted(crash.labels) == ["bug", "team"], crash.labels
assert [a["username"] for a in crash.assignees] == ["dev"] and crash.assignee["username"] == "dev"
assert crash.weight == 3 and crash.due_date == "2026-12-31"
assert crash.references["full"] == "planners/roadmap#1", crash.references
assert crash.task_completion_status == {"count": 2, "completed_count": 1}, crash.task_completion_status
assert crash.web_url.endswith("/planners/roadmap/-/issues/1"), crash.web_url
feature = project.issues.create({"title": "Dark mode", "labels": "feature"})
secret = project.issues.create({"title": "Leaked key", "description": "rotate the key", "confidential": True})
for n in range(3):
    project.issues.create({"title": f"Chore {n}"})

assert len(project.issues.list(get_all=True)) == 6
assert [i.iid for i in project.issues.list(labels=["bug"], get_all=True)] == [crash.iid]
assert [i.iid for i in project.issues.list(labels="None", get_all=True)] == [6, 5, 4, 3]
assert [i.iid for i in project.issues.list(assignee_username="dev", get_all=True)] == [crash.iid]
assert [i.iid for i in project.issues.list(search="DARK", get_all=True)] == [feature.iid]
assert [i.iid for i in project.issues.list(confidential=True, get_all=True)] == [secret.iid]
assert [i.iid for i in project.issues.list(order_by="title", sort="asc", per_page=2, page=1)] == [4, 5]
pages = list(project.issues.list(per_page=2, iterator=True))
assert [i.iid for i in pages] == [6, 5, 4, 3, 2, 1], [i.iid for i in pages]
assert len(gl.issues.list(scope="all", get_all=True)) == 6
assert len(group.issues.list(get_all=True)) == 6
try:
    project.issues.list(labels=["no-such-label"])
    raise AssertionError("an unknown label is refused")
except gitlab.GitlabListError as error:
    assert error.response_code == 400, error

# Comments, and close and reopen with the system notes they leave.
issue = project.issues.get(crash.iid)
note = issue.notes.create({"body": "I can reproduce it on **main**."})
assert note.author["username"] == "root" and not note.system, note
dev_issue = dev_gl.projects.get(project.id).issues.get(crash.iid)
dev_issue.notes.create({"body": "Looking into it."})
issue.state_event = "close"
issue.save()
assert issue.state == "closed" and issue.attributes["closed_by"]["username"] == "root", issue
assert [i.iid for i in project.issues.list(state="closed", get_all=True)] == [crash.iid]
issue.state_event = "reopen"
issue.save()
assert issue.state == "opened" and issue.closed_at is None, issue
issue.labels = ["feature"]
issue.title = "Crash on start-up"
issue.save()
bodies = [n.body for n in issue.notes.list(sort="asc", get_all=True)]
assert bodies == [
    "I can reproduce it on **main**.",
    "Looking into it.",
    "closed",
    "reopened",
    "changed title from **Crash on start** to **Crash on start-up**",
    "added ~feature label and removed ~bug ~team labels",
], bodies
participants = [person["username"] for person in issue.participants()]
assert participants == ["root", "dev"], participants
comments = [n for n in issue.notes.list(get_all=True) if not n.system]
assert len(comments) == 2 and project.issues.get(crash.iid).user_notes_count == 2
edited = issue.notes.get(note.id)
edited.body = "Reproduced on main and on v1."
edited.save()
assert issue.notes.get(note.id).body == "Reproduced on main and on v1."
issue.notes.delete(note.id)
assert len([n for n in issue.notes.list(get_all=True) if not n.system]) == 1

# Delete an issue.
project.issues.delete(feature.iid)
try:
    project.issues.get(feature.iid)
    raise AssertionError("a deleted issue is gone")
except gitlab.GitlabGetError as error:
    assert error.response_code == 404, error
assert len(project.issues.list(get_all=True)) == 5

# Quick actions in a comment, and time tracking.
triage = issue.notes.create({"body": "/label ~bug\n/estimate 1d\nTriaged."})
assert triage.body == "Triaged.", triage.body
issue = project.issues.get(crash.iid)
assert "bug" in issue.labels and issue.time_stats()["time_estimate"] == 8 * 3600, issue.labels
issue.time_estimate("3h30m")
issue.add_spent_time("1h")
stats = project.issues.get(crash.iid).time_stats()  # time_stats() reads a fetched issue's own
assert stats["time_estimate"] == 12600 and stats["total_time_spent"] == 3600, stats
assert stats["human_time_estimate"] == "3h 30m" and stats["human_total_time_spent"] == "1h", stats
issue.reset_spent_time()
issue.reset_time_estimate()
assert project.issues.get(crash.iid).time_stats()["total_time_spent"] == 0

# To-dos: a mention gives one; marking done, adding one's own, all done at once.
assert dev_gl.todos.list(get_all=True) == [], "acting on the issue marked the assignment done"
issue.notes.create({"body": "@dev can you check the start-up path?"})
todos = dev_gl.todos.list(get_all=True)
assert [(t.action_name, t.target["iid"], t.state) for t in todos] == [("directly_addressed", crash.iid, "pending")], todos
assert todos[0].author["username"] == "root" and todos[0].project["path_with_namespace"] == "planners/roadmap"
todos[0].mark_as_done()
assert dev_gl.todos.list(get_all=True) == []
assert len(dev_gl.todos.list(state="done", get_all=True)) == 2
dev_issue.todo()
assert [t.action_name for t in dev_gl.todos.list(get_all=True)] == ["marked"]
dev_gl.todos.mark_all_as_done()
assert dev_gl.todos.list(get_all=True) == []

# Notification levels and an issue's subscription.
settings = dev_gl.notificationsettings.get()
assert settings.level == "participating", settings
settings.level = "watch"
settings.save()
assert dev_gl.notificationsettings.get().level == "watch"
project_settings = dev_gl.projects.get(project.id, lazy=True).notificationsettings.get()
assert project_settings.level == "global", project_settings
project_settings.level = "mention"
project_settings.save()
assert dev_gl.projects.get(project.id, lazy=True).notificationsettings.get().level == "mention"
group_settings = gl.groups.get(group.id, lazy=True).notificationsettings.get()
group_settings.level = "disabled"
group_settings.save()
assert gl.groups.get(group.id, lazy=True).notificationsettings.get().level == "disabled"
# On mention only, the assignee gets no mail of the issue's comments until subscribing.
assert not dev_gl.projects.get(project.id).issues.get(crash.iid).subscribed
dev_issue.subscribe()
assert dev_gl.projects.get(project.id).issues.get(crash.iid).subscribed
dev_issue.unsubscribe()
assert not dev_gl.projects.get(project.id).issues.get(crash.iid).subscribed
# Milestones: the project's and its group's.
v1 = project.milestones.create({"title": "v1", "description": "First release", "due_date": "2026-12-31"})
assert v1.iid == 1 and v1.state == "active" and v1.project_id == project.id, v1
assert v1.web_url.endswith("/planners/roadmap/-/milestones/1"), v1.web_url
v2 = project.milestones.create({"title": "v2", "start_date": "2027-01-01", "due_date": "2027-06-30"})
quarter = group.milestones.create({"title": "Q1 2027"})
assert quarter.group_id == group.id and quarter.iid == 1, quarter
assert [m.title for m in project.milestones.list(get_all=True)] == ["v1", "v2"]
with_group = project.milestones.list(include_parent_milestones=True, get_all=True)
assert sorted(m.title for m in with_group) == ["Q1 2027", "v1", "v2"], [m.title for m in with_group]
assert [m.title for m in group.milestones.list(get_all=True)] == ["Q1 2027"]
assert [m.title for m in project.milestones.list(search="first", get_all=True)] == ["v1"]
assert project.milestones.get(v1.id).description == "First release"

planned = project.issues.create({"title": "Ship v1", "milestone_id": v1.id})
assert planned.milestone["title"] == "v1" and planned.milestone["id"] == v1.id, planned.milestone
planned.milestone_id = quarter.id
planned.save()
assert planned.milestone["title"] == "Q1 2027" and planned.milestone["group_id"] == group.id, planned.milestone
assert [i.iid for i in quarter.issues()] == [planned.iid]
assert [i.iid for i in project.issues.list(milestone="Q1 2027", get_all=True)] == [planned.iid]
planned.milestone_id = v1.id
planned.save()
assert [i.iid for i in v1.issues()] == [planned.iid]
assert [i.iid for i in project.issues.list(milestone="v1", get_all=True)] == [planned.iid]
assert planned.iid not in [i.iid for i in project.issues.list(milestone="None", get_all=True)]
assert list(v1.merge_requests()) == []
bodies = [n.body for n in planned.notes.list(sort="asc", get_all=True)]
assert bodies == ['changed milestone to %"Q1 2027"', "changed milestone to %v1"], bodies

v2.state_event = "close"
v2.save()
assert v2.state == "closed", v2
assert [m.title for m in project.milestones.list(state="closed", get_all=True)] == ["v2"]
v2.state_event = "activate"
v2.title = "v2.0"
v2.save()
assert project.milestones.get(v2.id).state == "active" and v2.title == "v2.0", v2
project.milestones.delete(v1.id)
assert [m.title for m in project.milestones.list(get_all=True)] == ["v2.0"]
assert project.issues.get(planned.iid).milestone is None, "its issues are in no milestone after"
group.milestones.delete(quarter.id)
assert group.milestones.list(get_all=True) == []
v2.due_date = "2027-07-01T00:00:00Z"
v2.save()
assert v2.due_date == "2027-07-01", v2.due_date
v2.promote()
assert [m.title for m in group.milestones.list(get_all=True)] == ["v2.0"]
assert project.milestones.list(get_all=True) == []

# Boards: the project's and the group's, with lists.
assert project.boards.list(get_all=True) == [], "the API makes none (the boards page's first look does)"
board = project.boards.create({"name": "Sprint"})
assert board.name == "Sprint" and board.project["id"] == project.id, board
feature = project.labels.get("feature")
doing = board.lists.create({"label_id": bug.id})
todo = board.lists.create({"label_id": feature.id})
assert (doing.label["name"], doing.position, todo.position) == ("bug", 0, 1), (doing, todo)
todo.position = 0
todo.save()
assert [(l.label["name"], l.position) for l in board.lists.list(get_all=True)] == [("feature", 0), ("bug", 1)]
assert board.lists.get(doing.id).position == 1
doing.delete()
assert [l.label["name"] for l in board.lists.list(get_all=True)] == ["feature"]
assert [b.name for b in project.boards.list(get_all=True)] == ["Sprint"]
board.delete()
assert project.boards.list(get_all=True) == []

group_board = group.boards.create({"name": "Team"})
team = group.labels.list(get_all=True)[0]
team_list = group_board.lists.create({"label_id": team.id})
assert team_list.label["name"] == "team", team_list
# A person's list is for someone who sees the group (dev is a member of the project only).
try:
    group_board.lists.create({"assignee_id": dev.id})
    raise AssertionError("a list for someone who cannot see the group")
except gitlab.exceptions.GitlabCreateError as error:
    assert error.response_code == 400 and "cannot see this board" in error.error_message, error
people = group_board.lists.create({"assignee_id": gl.user.id})
assert people.assignee["username"] == gl.user.username and people.position == 1, people
people.position = 0
people.save()
assert [l.position for l in group.boards.get(group_board.id).lists.list(get_all=True)] == [0, 1]
team_list.delete()
group_board.delete()
assert group.boards.list(get_all=True) == []

# The order of boards: an issue put between two others.
first = project.issues.create({"title": "First card"})
second = project.issues.create({"title": "Second card"})
third = project.issues.create({"title": "Third card"})
third.reorder(move_before_id=first.id, move_after_id=second.id)
assert first.relative_position < third.relative_position < second.relative_position, (
    first.relative_position, third.relative_position, second.relative_position)
ordered = project.issues.list(order_by="relative_position", sort="asc", search="card", get_all=True)
assert [i.title for i in ordered] == ["First card", "Third card", "Second card"], [i.title for i in ordered]

# Epics of the group: one with child issues, a nested one, closed and reopened.
epic = group.epics.create({"title": "Launch", "description": "Everything for the launch", "labels": "team"})
assert epic.iid == 1 and epic.state == "opened" and epic.labels == ["team"], epic
epic.issues.create({"issue_id": crash.id})
epic.issues.create({"issue_id": planned.id})
assert sorted(i.iid for i in epic.issues.list(get_all=True)) == sorted([crash.iid, planned.iid])
assert project.issues.get(crash.iid).epic_iid == epic.iid
child = group.epics.create({"title": "Docs", "parent_id": epic.id})
assert child.parent_id == epic.id, child
epic.title = "Launch 1.0"
epic.state_event = "close"
epic.save()
assert group.epics.get(epic.iid).state == "closed"
assert [e.title for e in group.epics.list(state="closed", get_all=True)] == ["Launch 1.0"]
epic.state_event = "reopen"
epic.save()
assert {e.title for e in group.epics.list(get_all=True)} == {"Launch 1.0", "Docs"}

# The wiki: a page written, read, listed, moved by a new title, a file attached, deleted.
page = project.wikis.create({"title": "guides/Getting started", "content": "Install it. See #1."})
assert (page.slug, page.title, page.format) == ("guides/Getting-started", "Getting started", "markdown"), page
assert project.wikis.get("guides/Getting-started").content == "Install it. See #1."
page.content = "Install it, then run it."
page.title = "Getting started"
page.save()
assert page.slug == "Getting-started", page
assert [p.slug for p in project.wikis.list(get_all=True)] == ["Getting-started"]
assert project.wikis.list(with_content=True, get_all=True)[0].content == "Install it, then run it."
uploaded = page.upload("notes.txt", "some notes")
assert uploaded["file_path"].startswith("uploads/") and uploaded["file_path"].endswith("/notes.txt"), uploaded
assert uploaded["link"]["markdown"] == f"[notes.txt]({uploaded['file_path']})", uploaded
try:
    project.wikis.create({"title": "Getting started", "content": "again"})
    raise AssertionError("a second page with the same title was made")
except gitlab.exceptions.GitlabCreateError as error:
    assert error.response_code == 400 and "Duplicate page" in error.error_message, error
page.delete()
assert project.wikis.list(get_all=True) == []

# A file for an issue, as python-gitlab's own test uploads one.
uploaded = project.upload("test.txt", filedata="testing contents")
assert uploaded["alt"] == "test.txt" and uploaded["url"].startswith("/uploads/"), uploaded
assert uploaded["markdown"] == f"[test.txt]({uploaded['url']})", uploaded

print("all python-gitlab issue checks passed")
