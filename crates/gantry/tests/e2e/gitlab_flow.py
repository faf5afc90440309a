"""Drives Gantry's API with python-gitlab the way a GitLab user's script would."""
import os
import sys

import gitlab
from gitlab.const import AccessLevel

gl = gitlab.Gitlab(os.environ["GANTRY_URL"], private_token=os.environ["GANTRY_TOKEN"])
gl.auth()
assert gl.user.username == "root", gl.user.username

acme = gl.groups.create({"name": "Acme", "path": "acme"})
platform = gl.groups.create({"name": "Platform", "path": "platform", "parent_id": acme.id})
assert platform.full_path == "acme/platform", platform.full_path
assert [g.path for g in acme.subgroups.list()] == ["platform"]

projects = [gl.projects.create({"name": f"Service {n}", "path": f"service-{n}", "namespace_id": platform.id})
            for n in ("one", "two", "three")]
assert projects[0].path_with_namespace == "acme/platform/service-one"

dev = gl.users.list(username="dev")[0]
member = projects[1].members.create({"user_id": dev.id, "access_level": AccessLevel.DEVELOPER})
assert member.access_level == 30
assert any(m.username == "dev" for m in projects[1].members_all.list(get_all=True))
group_member = acme.members.create({"user_id": dev.id, "access_level": AccessLevel.REPORTER})
assert group_member.access_level == 20

first_page = gl.projects.list(per_page=2, page=1, order_by="name", sort="asc")
assert len(first_page) == 2, len(first_page)
every = gl.projects.list(per_page=1, iterator=True)
assert len(list(every)) == 3
assert len(gl.projects.list(get_all=True, per_page=2)) == 3
assert len(platform.projects.list(get_all=True)) == 3

project = gl.projects.get("acme/platform/service-two")
project.description = "updated by python-gitlab"
project.save()
assert gl.projects.get(project.id).description == "updated by python-gitlab"

projects[2].delete()
try:
    gl.projects.get(projects[2].id)
    sys.exit("deleted project is still there")
except gitlab.exceptions.GitlabGetError as error:
    assert error.response_code == 404

try:
    gl.groups.create({"name": "x", "path": "api"})
    sys.exit("reserved name accepted")
except gitlab.exceptions.GitlabCreateError as error:
    assert error.response_code == 400 and "reserved" in str(error.error_message), error

print("all python-gitlab checks passed")
