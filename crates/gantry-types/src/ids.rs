//! Id newtypes: 64-bit database ids that cannot be mixed up with one another.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;

            /// Reads an id from a path or a form (decimal digits).
            fn from_str(text: &str) -> Result<$name, Self::Err> {
                text.parse().map($name)
            }
        }
    )*};
}

id_type!(
    /// A user account.
    UserId,
    /// A namespace: a user's personal namespace or a group.
    NamespaceId,
    /// A project.
    ProjectId,
    /// A personal access token.
    TokenId,
    /// A row of group or project membership.
    GroupMemberId,
    /// A CI pipeline.
    PipelineId,
    /// A job of a pipeline (each attempt has its own).
    JobId,
    /// A registered runner.
    RunnerId,
    /// A pipeline schedule.
    ScheduleId,
    /// A pipeline trigger token.
    TriggerId,
    /// A CI/CD variable of a project, a group or the instance.
    VariableId,
    /// A job's stored artifact (an archive, a report, a log).
    ArtifactId,
    /// A commit status reported from outside.
    CommitStatusId,
    /// A job of the background queue.
    BackgroundJobId,
    /// A project topic (instance-wide).
    TopicId,
    /// A deploy key (an SSH key giving git access to the projects it is enabled on).
    DeployKeyId,
    /// A deploy token of a project or a group.
    DeployTokenId,
    /// A secondary e-mail address of a user.
    EmailId,
    /// A user's GPG public key.
    GpgKeyId,
    /// An issue (its id across projects; people use its per-project number, the `iid`).
    IssueId,
    /// A label of a project or a group.
    LabelId,
    /// A note: a comment or system note on an issue (merge requests and epics later).
    NoteId,
    /// A milestone of a project or a group.
    MilestoneId,
    /// A to-do of a user.
    TodoId,
    /// An issue board of a project or a group.
    BoardId,
    /// A list (column) of an issue board.
    BoardListId,
    /// An epic of a group (its id across groups; people use its per-group number, the `iid`).
    EpicId,
    /// An iteration cadence of a group: a series of iterations of one length.
    CadenceId,
    /// An iteration of a cadence (its id across groups, which GitLab's references use).
    IterationId,
);
