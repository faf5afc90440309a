//! Code stage: protected branches and tags, and the record of pushes.

pub mod protected_branches;
pub mod protected_tags;
pub mod push_events;
