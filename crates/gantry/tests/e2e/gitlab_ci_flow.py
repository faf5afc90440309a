"""Drives Gantry's CI API with python-gitlab the way a GitLab user's script would: pipelines,
jobs, traces, artifacts, test reports, retry, cancel, a pipeline with variables, schedules,
trigger tokens, commit statuses and CI lint."""
import io
import os
import sys
import time
import zipfile

import gitlab

gl = gitlab.Gitlab(os.environ["GANTRY_URL"], private_token=os.environ["GANTRY_TOKEN"])
project = gl.projects.get(os.environ["GANTRY_PROJECT"])


def wait(pipeline_id, done, what):
    deadline = time.time() + 60
    while time.time() < deadline:
        pipeline = project.pipelines.get(pipeline_id)
        if done(pipeline):
            return pipeline
        time.sleep(0.05)
    sys.exit(f"pipeline {pipeline_id} never became {what}: {pipeline.status}")


# The push's pipeline: listed, with its jobs and their logs.
pipelines = project.pipelines.list(get_all=True)
assert len(pipelines) == 1, pipelines
first = wait(pipelines[0].id, lambda p: p.status == "success", "success")
assert first.ref == "main" and first.source == "push", first.attributes
jobs = first.jobs.list(get_all=True)
assert sorted(j.name for j in jobs) == ["greet"], [j.name for j in jobs]
job = project.jobs.get(jobs[0].id)
assert job.status == "success" and job.stage == "test", job.attributes
assert b"hello nobody" in job.trace(), job.trace()

# Its artifacts (the archive and one file) and the pipeline's test report.
archive = zipfile.ZipFile(io.BytesIO(job.artifacts()))
assert "out/hello.txt" in archive.namelist(), archive.namelist()
assert job.artifact("out/hello.txt") == b"greeting\n"
assert job.artifacts_file["filename"] == "artifacts.zip", job.attributes
report = first.test_report.get()
assert report.total_count == 1 and report.test_suites[0]["name"] == "greet", report.attributes

# Retry a job: a new attempt runs; the old one is kept.
retried = job.retry()
assert retried["id"] != job.id and retried["name"] == "greet", retried
wait(first.id, lambda p: p.status == "success", "success again")
assert len(first.jobs.list(include_retried=True, get_all=True)) == 2

# A pipeline with variables.
created = project.pipelines.create({"ref": "main", "variables": [{"key": "WHO", "value": "python"}]})
assert created.status in ("created", "pending", "running"), created.status
done = wait(created.id, lambda p: p.status == "success", "success")
greet = done.jobs.list(get_all=True)[0]
assert b"hello python" in project.jobs.get(greet.id).trace()
assert {v.key: v.value for v in created.variables.list()} == {"WHO": "python"}

# Cancel a running pipeline.
slow = project.pipelines.create({"ref": "main", "variables": [{"key": "SLOW", "value": "yes"}]})
wait(slow.id, lambda p: p.status == "running", "running")
slow.cancel()
wait(slow.id, lambda p: p.status == "canceled", "canceled")
statuses = {j.name: j.status for j in slow.jobs.list(get_all=True)}
assert statuses["sleeper"] == "canceled", statuses

# Jobs of the project, filtered by scope.
canceled = project.jobs.list(scope="canceled", get_all=True)
assert [j.name for j in canceled] == ["sleeper"], [j.name for j in canceled]

# A schedule with a variable, run now.
schedule = project.pipelineschedules.create({"ref": "main", "description": "nightly", "cron": "0 1 * * *"})
schedule.variables.create({"key": "WHO", "value": "schedule"})
schedule_id = schedule.id
schedule.play()  # python-gitlab replaces the object's attributes with GitLab's {"message": …}
schedule = project.pipelineschedules.get(schedule_id)
assert schedule.owner["username"] == "root" and schedule.attributes["variables"][0]["key"] == "WHO", schedule.attributes
scheduled = wait(schedule.last_pipeline["id"], lambda p: p.status == "success", "success")
assert scheduled.source == "schedule"
greet = scheduled.jobs.list(get_all=True)[0]
assert b"hello schedule" in project.jobs.get(greet.id).trace()
assert [s.description for s in project.pipelineschedules.list(get_all=True)] == ["nightly"]
schedule.delete()

# A trigger token starts a pipeline without user credentials.
trigger = project.triggers.create({"description": "from python"})
triggered = project.trigger_pipeline("main", trigger.token, variables={"WHO": "trigger"})
triggered = wait(triggered.id, lambda p: p.status == "success", "success")
assert triggered.source == "trigger"
greet = triggered.jobs.list(get_all=True)[0]
assert b"hello trigger" in project.jobs.get(greet.id).trace()
trigger.delete()

# Another system reports a commit status.
commit = project.commits.get(first.sha)
commit.statuses.create({"state": "success", "name": "python", "target_url": "https://ci.example.com/7"})
named = {s.name: s.status for s in commit.statuses.list(get_all=True)}
assert named["python"] == "success" and named["greet"] == "success", named

# Lint.
good = project.ci_lint.create({"content": "build:\n  script: make\n"})
assert good.valid and good.errors == [], good.attributes
bad = project.ci_lint.create({"content": "build:\n  scrpt: make\n"})
assert not bad.valid and any("2:3" in e and "scrpt" in e for e in bad.errors), bad.errors
try:
    project.ci_lint.validate({"content": "stages: 3\nbuild:\n  script: make\n"})
    sys.exit("an invalid CI file validated")
except gitlab.exceptions.GitlabCiLintError as error:
    assert "stages" in str(error), error
assert project.ci_lint.get().valid

print("all python-gitlab CI checks passed")
