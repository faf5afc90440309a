//! Code stage: protected branches and the record of pushes.

pub mod protected_branches;
pub mod push_events;
