//! Pipeline schedules: pipelines that start on a cron in a time zone, run with their owner's
//! rights and their own variables; a blocked or deleted owner's schedules are turned off.
//! Trigger tokens are in `triggers.rs`.

use gantry_db::ci::pipelines;
use gantry_db::ci::schedules::{self, ScheduleFields, ScheduleRow};
use gantry_db::manage::users;
use gantry_types::ScheduleId;

use super::PipelineRow;
use crate::policy::{ProjectAction, authorize_project, authorize_protected_ref, may_read_schedule_variables};
use crate::{Actor, CoreError, CoreResult, ProjectRow, now_millis};

/// When a schedule with `cron` (five fields) in `timezone` next runs after `after` (Unix
/// milliseconds).
pub fn next_run(cron: &str, timezone: &str, after: i64) -> Result<i64, CoreError> {
    let fields = cron.split_whitespace().count();
    if fields != 5 && !cron.trim_start().starts_with('@') {
        return Err(CoreError::invalid(
            "cron",
            "must have five fields: minute hour day-of-month month day-of-week (like 0 3 * * 1)",
        ));
    }
    let parser = croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Disallowed)
        .year(croner::parser::Year::Disallowed)
        .build();
    let pattern = parser.parse(cron).map_err(|error| CoreError::invalid("cron", format!("is not valid: {error}")))?;
    let zone = jiff::tz::TimeZone::get(timezone.trim()).map_err(|_| {
        CoreError::invalid("cron_timezone", format!("'{timezone}' is not a time zone (like Europe/Berlin)"))
    })?;
    let start =
        jiff::Timestamp::from_millisecond(after).map_err(|error| CoreError::Internal(Box::new(error)))?.to_zoned(zone);
    let next = pattern
        .find_next_occurrence(&start, false)
        .map_err(|error| CoreError::invalid("cron", format!("never runs: {error}")))?;
    Ok(next.timestamp().as_millisecond())
}

/// What a person sets on a schedule; `None` keeps what is there (or the default on create).
#[derive(Debug, Clone, Default)]
pub struct ScheduleInput {
    pub description: Option<String>,
    pub ref_name: Option<String>,
    pub cron: Option<String>,
    pub cron_timezone: Option<String>,
    pub active: Option<bool>,
    /// Values for the CI file's `spec:inputs` (all of them: the ones not named are dropped).
    pub inputs: Option<Vec<(String, serde_json::Value)>>,
}

/// The most inputs a schedule holds, and the longest value (as JSON text).
const MAX_SCHEDULE_INPUTS: usize = 50;
const MAX_INPUT_VALUE_BYTES: usize = 10 * 1024;

/// Inputs as core keeps them (a JSON object), once their names and sizes are checked: a
/// schedule's, or a pipeline's own.
pub(super) fn stored_inputs(inputs: &[(String, serde_json::Value)]) -> CoreResult<String> {
    if inputs.len() > MAX_SCHEDULE_INPUTS {
        return Err(CoreError::invalid("inputs", format!("at most {MAX_SCHEDULE_INPUTS} inputs may be given")));
    }
    let mut object = serde_json::Map::new();
    for (name, value) in inputs {
        let name = name.trim();
        if name.is_empty()
            || name.len() > 255
            || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(CoreError::invalid(
                "inputs",
                format!("'{name}' is not an input name (letters, digits, - and _)"),
            ));
        }
        if value.to_string().len() > MAX_INPUT_VALUE_BYTES {
            return Err(CoreError::invalid("inputs", format!("the value of '{name}' is longer than 10 KiB")));
        }
        object.insert(name.to_owned(), value.clone());
    }
    Ok(serde_json::Value::Object(object).to_string())
}

/// A schedule's inputs, in the order stored.
pub fn schedule_inputs(row: &ScheduleRow) -> Vec<(String, serde_json::Value)> {
    match serde_json::from_str::<serde_json::Value>(&row.inputs) {
        Ok(serde_json::Value::Object(values)) => values.into_iter().collect(),
        _ => Vec::new(),
    }
}

/// A schedule variable, opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleVariable {
    pub key: String,
    pub value: String,
    pub variable_type: String,
}

/// A schedule with its variables.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub row: ScheduleRow,
    /// `None` for those who may not read them: only the schedule's owner, Maintainers and
    /// administrators may (`policy::may_read_schedule_variables`), as in GitLab.
    pub variables: Option<Vec<ScheduleVariable>>,
}

fn seal_context(schedule: ScheduleId, key: &str) -> String {
    format!("ci_schedule_variable:{schedule}:{key}")
}

/// The ref as stored: `refs/heads/main` → `main`.
fn short_ref(ref_name: &str) -> String {
    let trimmed = ref_name.trim();
    trimmed.strip_prefix("refs/heads/").or_else(|| trimmed.strip_prefix("refs/tags/")).unwrap_or(trimmed).to_owned()
}

impl super::Ci<'_> {
    async fn project_schedule(
        &self,
        conn: &mut gantry_db::Conn,
        project: &ProjectRow,
        id: ScheduleId,
    ) -> CoreResult<ScheduleRow> {
        schedules::get_schedule(conn, id)
            .await?
            .filter(|schedule| schedule.project_id == project.id)
            .ok_or(CoreError::NotFound("pipeline schedule"))
    }

    async fn open_schedule(&self, conn: &mut gantry_db::Conn, row: ScheduleRow) -> CoreResult<Schedule> {
        let mut variables = Vec::new();
        for (key, sealed, variable_type) in schedules::schedule_variables(conn, row.id).await? {
            let value = self
                .secrets
                .open(&seal_context(row.id, &key), &sealed)
                .map_err(|error| CoreError::Internal(Box::new(error)))?;
            variables.push(ScheduleVariable { key, value, variable_type });
        }
        Ok(Schedule { row, variables: Some(variables) })
    }

    /// The signed-in user editing a schedule: its owner (or an administrator).
    async fn schedule_owner_check(&self, actor: &Actor, schedule: &ScheduleRow) -> CoreResult<()> {
        let Some(user) = actor.user() else { return Err(CoreError::Unauthorized) };
        if !crate::policy::owns_or_administers(user, schedule.owner_id) {
            return Err(CoreError::Forbidden(
                "only the schedule's owner may change it; a Maintainer may take ownership first".to_owned(),
            ));
        }
        Ok(())
    }

    /// A schedule on a protected branch is for those who may run pipelines there.
    async fn authorize_schedule_ref(&self, actor: &Actor, project: &ProjectRow, ref_name: &str) -> CoreResult<()> {
        let (is_tag, _) = self.branch_or_tag(project, ref_name).await?;
        let mut conn = self.db.conn().await?;
        authorize_protected_ref(&mut conn, actor, project, ref_name, is_tag).await
    }

    /// A checked description, ref, cron and time zone, with the next run.
    async fn schedule_fields(
        &self,
        project: &ProjectRow,
        input: &ScheduleInput,
        base: Option<&ScheduleRow>,
    ) -> CoreResult<(String, String, String, String, i64, bool)> {
        let description = input.description.clone().or_else(|| base.map(|b| b.description.clone())).unwrap_or_default();
        let description = description.trim().to_owned();
        if description.is_empty() || description.len() > 255 {
            return Err(CoreError::invalid("description", "is required (at most 255 characters)"));
        }
        let ref_name = match (&input.ref_name, base) {
            (Some(r), _) => short_ref(r),
            (None, Some(base)) => base.ref_name.clone(),
            (None, None) => return Err(CoreError::invalid("ref", "is required")),
        };
        let is_ref = self.repos.ref_target(project.id, &format!("refs/heads/{ref_name}")).await?.is_some()
            || self.repos.ref_target(project.id, &format!("refs/tags/{ref_name}")).await?.is_some();
        if !is_ref {
            return Err(CoreError::invalid("ref", format!("'{ref_name}' is not a branch or tag of this project")));
        }
        let cron = match (&input.cron, base) {
            (Some(cron), _) => cron.trim().to_owned(),
            (None, Some(base)) => base.cron.clone(),
            (None, None) => return Err(CoreError::invalid("cron", "is required")),
        };
        let timezone = input
            .cron_timezone
            .clone()
            .or_else(|| base.map(|b| b.cron_timezone.clone()))
            .unwrap_or_else(|| "UTC".to_owned());
        let timezone = if timezone.trim().is_empty() { "UTC".to_owned() } else { timezone.trim().to_owned() };
        let next = next_run(&cron, &timezone, now_millis())?;
        let active = input.active.or(base.map(|b| b.active)).unwrap_or(true);
        Ok((description, ref_name, cron, timezone, next, active))
    }

    /// A project's schedules (Developers: their variables may be secrets); `active` filters.
    pub async fn list_schedules(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        active: Option<bool>,
    ) -> CoreResult<Vec<ScheduleRow>> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::RunPipelines).await?;
        Ok(schedules::project_schedules(&mut conn, project.id, active).await?)
    }

    /// One schedule, with its variables for those who may read them.
    pub async fn schedule(&self, actor: &Actor, project: &ProjectRow, id: ScheduleId) -> CoreResult<Schedule> {
        let mut conn = self.db.conn().await?;
        let level = authorize_project(&mut conn, actor, project, ProjectAction::RunPipelines).await?;
        let row = self.project_schedule(&mut conn, project, id).await?;
        if !may_read_schedule_variables(actor, level, row.owner_id) {
            return Ok(Schedule { row, variables: None });
        }
        self.open_schedule(&mut conn, row).await
    }

    /// Creates a schedule owned by the actor (Developers).
    pub async fn create_schedule(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        input: &ScheduleInput,
    ) -> CoreResult<Schedule> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::RunPipelines).await?;
        let Some(user) = actor.user() else { return Err(CoreError::Unauthorized) };
        drop(conn);
        let (description, ref_name, cron, cron_timezone, next_run_at, active) =
            self.schedule_fields(project, input, None).await?;
        self.authorize_schedule_ref(actor, project, &ref_name).await?;
        let fields = ScheduleFields {
            description: &description,
            ref_name: &ref_name,
            cron: &cron,
            cron_timezone: &cron_timezone,
            next_run_at,
            active,
        };
        let inputs = input.inputs.as_deref().map(stored_inputs).transpose()?;
        let mut conn = self.db.conn().await?;
        let id = schedules::create_schedule(&mut conn, project.id, user.id, &fields).await?;
        if let Some(inputs) = &inputs {
            schedules::set_schedule_inputs(&mut conn, id, inputs).await?;
        }
        let row = self.project_schedule(&mut conn, project, id).await?;
        self.open_schedule(&mut conn, row).await
    }

    /// Changes a schedule (its owner).
    pub async fn update_schedule(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        id: ScheduleId,
        input: &ScheduleInput,
    ) -> CoreResult<Schedule> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::RunPipelines).await?;
        let row = self.project_schedule(&mut conn, project, id).await?;
        self.schedule_owner_check(actor, &row).await?;
        drop(conn);
        let (description, ref_name, cron, cron_timezone, next_run_at, active) =
            self.schedule_fields(project, input, Some(&row)).await?;
        self.authorize_schedule_ref(actor, project, &ref_name).await?;
        let fields = ScheduleFields {
            description: &description,
            ref_name: &ref_name,
            cron: &cron,
            cron_timezone: &cron_timezone,
            next_run_at,
            active,
        };
        let inputs = input.inputs.as_deref().map(stored_inputs).transpose()?;
        let mut conn = self.db.conn().await?;
        schedules::update_schedule(&mut conn, id, &fields).await?;
        if let Some(inputs) = &inputs {
            schedules::set_schedule_inputs(&mut conn, id, inputs).await?;
        }
        let row = self.project_schedule(&mut conn, project, id).await?;
        self.open_schedule(&mut conn, row).await
    }

    /// Makes the actor the schedule's owner (Maintainers, or the owner).
    pub async fn take_schedule_ownership(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        id: ScheduleId,
    ) -> CoreResult<Schedule> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ManageCi).await?;
        let row = self.project_schedule(&mut conn, project, id).await?;
        let Some(user) = actor.user() else { return Err(CoreError::Unauthorized) };
        // The schedule runs as its new owner: one who may not run pipelines on its branch would
        // own a schedule that fails at every run.
        drop(conn);
        self.authorize_schedule_ref(actor, project, &row.ref_name).await?;
        let mut conn = self.db.conn().await?;
        schedules::set_schedule_owner(&mut conn, row.id, user.id).await?;
        let row = self.project_schedule(&mut conn, project, id).await?;
        self.open_schedule(&mut conn, row).await
    }

    /// Deletes a schedule (its owner, or a Maintainer).
    pub async fn delete_schedule(&self, actor: &Actor, project: &ProjectRow, id: ScheduleId) -> CoreResult<()> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::RunPipelines).await?;
        let row = self.project_schedule(&mut conn, project, id).await?;
        if self.schedule_owner_check(actor, &row).await.is_err() {
            authorize_project(&mut conn, actor, project, ProjectAction::ManageCi).await?;
        }
        Ok(schedules::delete_schedule(&mut conn, row.id).await?)
    }

    /// Adds (`create`) or changes a schedule variable (its owner).
    pub async fn set_schedule_variable(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        id: ScheduleId,
        variable: &ScheduleVariable,
        create: bool,
    ) -> CoreResult<Schedule> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::RunPipelines).await?;
        let row = self.project_schedule(&mut conn, project, id).await?;
        self.schedule_owner_check(actor, &row).await?;
        if !super::jobs::is_variable_key(&variable.key) {
            return Err(CoreError::invalid("key", "must be letters, digits and _ (at most 255)"));
        }
        if !matches!(variable.variable_type.as_str(), "env_var" | "file") {
            return Err(CoreError::invalid("variable_type", "must be env_var or file"));
        }
        drop(conn);
        self.check_pipeline_variables(actor, project, &[(variable.key.clone(), variable.value.clone())]).await?;
        let mut conn = self.db.conn().await?;
        let sealed = self.secrets.seal(&seal_context(row.id, &variable.key), &variable.value);
        let done = schedules::put_schedule_variable(
            &mut conn,
            row.id,
            &variable.key,
            &sealed,
            &variable.variable_type,
            !create,
        )
        .await?;
        match (done, create) {
            (true, _) => self.open_schedule(&mut conn, row).await,
            (false, true) => Err(CoreError::Conflict(format!("the schedule already has a variable {}", variable.key))),
            (false, false) => Err(CoreError::NotFound("schedule variable")),
        }
    }

    /// Removes a schedule variable (its owner).
    pub async fn delete_schedule_variable(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        id: ScheduleId,
        key: &str,
    ) -> CoreResult<()> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::RunPipelines).await?;
        let row = self.project_schedule(&mut conn, project, id).await?;
        self.schedule_owner_check(actor, &row).await?;
        if !schedules::delete_schedule_variable(&mut conn, row.id, key).await? {
            return Err(CoreError::NotFound("schedule variable"));
        }
        Ok(())
    }

    /// The pipelines a schedule made, newest first.
    pub async fn schedule_pipelines(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        id: ScheduleId,
    ) -> CoreResult<Vec<PipelineRow>> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::RunPipelines).await?;
        let row = self.project_schedule(&mut conn, project, id).await?;
        Ok(pipelines::schedule_pipelines(&mut conn, row.id).await?)
    }

    /// "Run now": a pipeline of the schedule, started by the actor (Developers).
    pub async fn play_schedule(&self, actor: &Actor, project: &ProjectRow, id: ScheduleId) -> CoreResult<PipelineRow> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::RunPipelines).await?;
        let row = self.project_schedule(&mut conn, project, id).await?;
        let schedule = self.open_schedule(&mut conn, row).await?;
        drop(conn);
        self.run_schedule(actor, project, &schedule).await
    }

    /// Runs a schedule as `actor`, who must be allowed to run pipelines on its ref. Its
    /// variables are its owner's: they must still be allowed to set them (the player answers
    /// for them when the owner is gone or blocked).
    async fn run_schedule(&self, actor: &Actor, project: &ProjectRow, schedule: &Schedule) -> CoreResult<PipelineRow> {
        let variables: Vec<(String, String)> =
            schedule.variables.iter().flatten().map(|v| (v.key.clone(), v.value.clone())).collect();
        let owner = match schedule.row.owner_id {
            Some(id) if actor.user().is_none_or(|user| user.id != id) => {
                let mut conn = self.db.conn().await?;
                users::find_user_by_id(&mut conn, id).await?.filter(|owner| !owner.blocked).map(Actor::User)
            }
            _ => None,
        };
        self.check_pipeline_variables(owner.as_ref().unwrap_or(actor), project, &variables).await?;
        let mut request =
            self.pipeline_request_for_ref(actor, project, &schedule.row.ref_name, Vec::new(), "schedule").await?;
        request.variables = variables;
        request.schedule_id = Some(schedule.row.id);
        request.inputs = (!schedule_inputs(&schedule.row).is_empty()).then(|| schedule.row.inputs.clone());
        self.run_pipeline_request(project, request).await
    }

    /// Starts the pipelines of the schedules that are due (the watchdog calls this each tick).
    /// Each due run is claimed by moving its next run first, so two servers never both run it.
    pub async fn run_due_schedules(&self) -> CoreResult<usize> {
        let now = now_millis();
        let mut conn = self.db.conn().await?;
        let due = schedules::due_schedules(&mut conn, now).await?;
        drop(conn);
        let mut started = 0;
        for row in due {
            let next = next_run(&row.cron, &row.cron_timezone, now).unwrap_or(i64::MAX);
            let mut conn = self.db.conn().await?;
            if !schedules::claim_run(&mut conn, row.id, row.next_run_at, next).await? {
                continue;
            }
            let project = gantry_db::manage::projects::find_project_by_id(&mut conn, row.project_id).await?;
            let owner = match row.owner_id {
                Some(id) => users::find_user_by_id(&mut conn, id).await?,
                None => None,
            };
            let Some(project) = project else { continue };
            // Checked now, not only when the owner was blocked: a schedule of a blocked or
            // deleted user never runs, and is turned off.
            let Some(owner) = owner.filter(|owner| !owner.blocked) else {
                schedules::deactivate_schedule(&mut conn, row.id).await?;
                tracing::warn!(
                    schedule = %row.id,
                    project.id = %row.project_id,
                    owner = row.owner_id.map_or(0, |id| id.0),
                    "pipeline schedule deactivated: its owner is blocked or deleted"
                );
                continue;
            };
            drop(conn);
            let actor = Actor::User(owner);
            let mut conn = self.db.conn().await?;
            let opened = self.open_schedule(&mut conn, row.clone()).await;
            drop(conn);
            let outcome = match opened {
                Ok(schedule) => self.run_schedule(&actor, &project, &schedule).await,
                Err(error) => Err(error),
            };
            match outcome {
                Ok(_) => started += 1,
                Err(error) => {
                    tracing::warn!(schedule = %row.id, error = %error, "a scheduled pipeline could not start")
                }
            }
        }
        Ok(started)
    }
}

/// Turns off the schedules of a user being blocked (in the transaction that blocks them).
pub(crate) async fn deactivate_schedules_of(conn: &mut gantry_db::Conn, user: gantry_types::UserId) -> CoreResult<()> {
    let stopped = schedules::deactivate_owner_schedules(conn, user).await?;
    if stopped > 0 {
        tracing::info!(user.id = %user, schedules = stopped, "pipeline schedules of a blocked user deactivated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAN_1_2026_NOON_UTC: i64 = 1_767_268_800_000;

    #[test]
    fn the_next_run_follows_the_cron_in_its_time_zone() {
        // 03:00 every day in Berlin (UTC+1 in January) is 02:00 UTC.
        let next = next_run("0 3 * * *", "Europe/Berlin", JAN_1_2026_NOON_UTC).unwrap();
        assert_eq!(next, JAN_1_2026_NOON_UTC + 14 * 3_600_000);
        let hourly = next_run("0 * * * *", "UTC", JAN_1_2026_NOON_UTC).unwrap();
        assert_eq!(hourly, JAN_1_2026_NOON_UTC + 3_600_000);
        assert_eq!(next_run("@daily", "UTC", JAN_1_2026_NOON_UTC).unwrap(), JAN_1_2026_NOON_UTC + 12 * 3_600_000);
    }

    #[test]
    fn bad_crons_and_zones_are_explained() {
        let error = next_run("0 3 * *", "UTC", 0).unwrap_err().to_string();
        assert!(error.contains("five fields"), "{error}");
        assert!(next_run("0 3 * * * *", "UTC", 0).is_err(), "seconds are not GitLab's");
        assert!(next_run("61 3 * * *", "UTC", 0).unwrap_err().to_string().contains("not valid"));
        assert!(next_run("0 3 * * *", "Mars/Olympus", 0).unwrap_err().to_string().contains("time zone"));
    }

    #[test]
    fn refs_are_stored_short() {
        assert_eq!(short_ref("refs/heads/main"), "main");
        assert_eq!(short_ref(" v1.0 "), "v1.0");
    }
}
