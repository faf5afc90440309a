//! Code stage: access to repositories over git's transports, pushes, branches and tags,
//! protected branches and tags, the languages of a repository, code search and find file.

pub mod branches;
pub mod browse;
pub mod commits;
pub mod find_file;
pub mod git_access;
pub mod languages;
pub mod protected_branches;
pub mod protected_tags;
pub mod search;

stage!(
    /// The Create stage: repositories, pushes, branches, tags and their protection.
    Code,
    code
);
