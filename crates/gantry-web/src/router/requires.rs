//! What each route requires of its caller, named in the route table and shown in the OpenAPI
//! document (`x-gantry-requires`). A declaration, not a check: the decision is core's
//! (`gantry_core::policy`), asked by the operation the handler calls, and the authorisation
//! sweep test holds every declaration against its own table of what each route needs.

use std::fmt;

use gantry_core::policy::{GroupAction, ProjectAction};

/// What a route requires, in `policy.rs`'s terms. Resources the caller may not see answer "not
/// found"; those they see but may not change, "forbidden"; anonymous callers are asked to sign
/// in where the route needs a user (git's smart HTTP asks them for credentials whenever it
/// refuses them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requires {
    /// Anyone, signed in or not (a page or listing shows what the caller may see).
    Anyone,
    /// A signed-in user, acting on their own account or listing what they may see.
    SignedIn,
    /// An instance administrator (`policy::require_admin`: others are told there is nothing
    /// here).
    Admin,
    /// An instance administrator, others being told "forbidden" as GitLab's clients expect
    /// (`policy::require_admin_or_forbid`: a user's memberships).
    AdminOrForbidden,
    /// The owner of the personal access token or SSH key in the path, or an administrator
    /// (`policy::owns_or_administers`).
    TokenOwner,
    /// The action on the project in the path (`ProjectAccess::require`).
    Project(ProjectAction),
    /// The action on the group in the path (`GroupAccess::require`).
    Group(GroupAction),
    /// A signed-in user, with the action on the group the request names to hold the new group
    /// or project (`parent_id`, `namespace_id`); without one, a top-level group or a project
    /// in the user's own namespace.
    Parent(GroupAction),
    /// A signed-in user who may manage the runner the request creates (by `runner_type`):
    /// administrators for instance runners (`policy::authorize_instance_runner`),
    /// `GroupAction::ManageRunners` for group runners, `ProjectAction::ManageCi` for project
    /// runners.
    NewRunner,
    /// A signed-in user who may manage the runner in the path, by the rule of `NewRunner`;
    /// others are told it does not exist.
    RunnerManager,
    /// `ProjectAction::RunPipelines`, and on a protected branch or tag the right to push or
    /// merge to it, or to create it (`policy::authorize_protected_ref`): starting, retrying,
    /// cancelling and playing pipelines and jobs, and reading a pipeline's variables (its own
    /// user may).
    ProtectedRef,
    /// `ProjectAction::RunPipelines` to see the schedule, then its owner or an administrator
    /// (`policy::owns_or_administers`); a Maintainer may take ownership first.
    ScheduleOwner,
    /// The author of the note in the path (project CreateIssue to see it: anyone signed in who
    /// sees the issue), or an administrator; others who see it are refused.
    NoteAuthor,
    /// Who gave the emoji reaction in the path (project ReadIssues to see it), or an
    /// administrator; others who see it are refused.
    AwardOwner,
    /// The owner of the to-do in the path; to everyone else (administrators too) it does not
    /// exist.
    TodoOwner,
    /// The key of a mail's link in the path (an unsubscribe link), which stands for the person
    /// it was sent to, signed in or not; a wrong key is "not found" for everyone.
    MailLink,
    /// A runner's token (`grt-`), never user credentials.
    RunnerToken,
    /// A running job's token (`gjob-`, in `JOB-TOKEN` or the body), never user credentials.
    JobToken,
    /// A pipeline trigger token (`glptt-`) in the body, never user credentials; a wrong one is
    /// "not found".
    TriggerToken,
}

impl fmt::Display for Requires {
    /// One line for people reading the API document: the rule and the lowest role it needs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let group_runners = GroupAction::ManageRunners.required_level().label();
        let project_runners = ProjectAction::ManageCi.required_level().label();
        let run_pipelines = ProjectAction::RunPipelines.required_level().label();
        match self {
            Requires::Anyone => write!(f, "anyone"),
            Requires::SignedIn => write!(f, "a signed-in user"),
            Requires::Admin => write!(f, "an administrator"),
            Requires::AdminOrForbidden => write!(f, "an administrator (others are refused, not told it is absent)"),
            Requires::TokenOwner => write!(f, "the token's or key's owner, or an administrator"),
            Requires::Project(action) => {
                write!(f, "project {action:?} ({} or above)", action.required_level().label())
            }
            Requires::Group(action) => write!(f, "group {action:?} ({} or above)", action.required_level().label()),
            Requires::Parent(action) => write!(
                f,
                "a signed-in user; group {action:?} on the parent group ({} or above)",
                action.required_level().label()
            ),
            Requires::NewRunner => write!(
                f,
                "a signed-in user; for an instance runner an administrator, for a group runner group ManageRunners \
                 ({group_runners}), for a project runner project ManageCi ({project_runners})"
            ),
            Requires::RunnerManager => write!(
                f,
                "a signed-in user who manages the runner: an administrator, group ManageRunners ({group_runners}) \
                 for a group runner, project ManageCi ({project_runners}) for a project runner"
            ),
            Requires::ProtectedRef => write!(
                f,
                "project RunPipelines ({run_pipelines} or above); on a protected branch the right to push or merge \
                 to it, on a protected tag the right to create it"
            ),
            Requires::ScheduleOwner => write!(
                f,
                "the pipeline schedule's owner (project RunPipelines, {run_pipelines} or above), or an administrator"
            ),
            Requires::NoteAuthor => write!(f, "the note's author, or an administrator"),
            Requires::AwardOwner => write!(f, "who gave the reaction, or an administrator"),
            Requires::TodoOwner => write!(f, "the to-do's owner"),
            Requires::MailLink => write!(f, "the key of a link Gantry mailed (no sign-in)"),
            Requires::RunnerToken => write!(f, "a runner token"),
            Requires::JobToken => write!(f, "a running job's token (JOB-TOKEN)"),
            Requires::TriggerToken => write!(f, "a pipeline trigger token"),
        }
    }
}
