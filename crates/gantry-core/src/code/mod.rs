//! Code stage: access to repositories over git's transports, pushes, protected branches.

pub mod git_access;
pub mod protected_branches;
