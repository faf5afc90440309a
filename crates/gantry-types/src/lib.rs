//! Validated newtypes shared by every Gantry crate (see the README below).
#![doc = include_str!("../README.md")]

mod access;
mod ids;
mod names;
mod scopes;

pub use access::{AccessLevel, Visibility};
pub use ids::{GroupMemberId, NamespaceId, ProjectId, TokenId, UserId};
pub use names::{
    Email, FullPath, MAX_EMAIL_LEN, MAX_SEGMENT_LEN, NameError, PathSegment, Username, parse_display_name,
};
pub use scopes::{TokenScope, TokenScopes};
