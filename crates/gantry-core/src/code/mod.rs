//! Code stage: access to repositories over git's transports, pushes, branches and tags,
//! protected branches.

pub mod branches;
pub mod browse;
pub mod git_access;
pub mod housekeeping;
pub mod protected_branches;
