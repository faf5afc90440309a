//! Validated newtypes shared by every Gantry crate (see the README below).
#![doc = include_str!("../README.md")]

#[macro_use]
mod named_enum;

mod access;
mod background;
mod ci;
mod ids;
mod names;
mod plan;
mod scopes;

pub use access::{AccessLevel, Visibility};
pub use background::BackgroundStatus;
pub use ci::{CiStatus, RunnerType, When};
pub use ids::{
    ArtifactId, BackgroundJobId, BoardId, BoardListId, CadenceId, CommitStatusId, DeployKeyId, DeployTokenId, EmailId,
    EpicId, GpgKeyId, GroupMemberId, IssueId, IterationId, JobId, LabelId, MilestoneId, NamespaceId, NoteId,
    PipelineId, ProjectId, RunnerId, ScheduleId, TodoId, TokenId, TopicId, TriggerId, UserId, VariableId,
};
pub use names::{
    Email, FullPath, MAX_EMAIL_LEN, MAX_SEGMENT_LEN, NameError, PathSegment, Username, parse_display_name,
};
pub use plan::IssueState;
pub use scopes::{DeployTokenScope, TokenScope, TokenScopes};
