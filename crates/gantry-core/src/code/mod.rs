//! Code stage: access to repositories over git's transports, pushes, branches and tags,
//! protected branches and tags, and the languages of a repository.

pub mod branches;
pub mod browse;
pub mod commits;
pub mod git_access;
pub mod languages;
pub mod protected_branches;
pub mod protected_tags;

stage!(
    /// The Create stage: repositories, pushes, branches, tags and their protection.
    Code,
    code
);
