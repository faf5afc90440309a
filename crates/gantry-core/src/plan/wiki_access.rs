//! Whose wiki an operation of `wiki.rs` is on — a project's or a group's — with the actor's
//! rights there, and the repository that holds it.

use gantry_db::plan::wiki_pages::WikiOwner;
use gantry_git::RepoId;

use crate::policy::{GroupAccess, GroupAction, ProjectAccess, ProjectAction};
use crate::{Actor, CoreResult};

/// Whose wiki an operation is on, with the actor's rights there.
#[derive(Debug, Clone, Copy)]
pub enum WikiAccess<'a> {
    Project(&'a ProjectAccess),
    Group(&'a GroupAccess),
}

impl<'a> From<&'a ProjectAccess> for WikiAccess<'a> {
    fn from(access: &'a ProjectAccess) -> WikiAccess<'a> {
        WikiAccess::Project(access)
    }
}

impl<'a> From<&'a GroupAccess> for WikiAccess<'a> {
    fn from(access: &'a GroupAccess) -> WikiAccess<'a> {
        WikiAccess::Group(access)
    }
}

impl<'a> WikiAccess<'a> {
    /// Whose wiki it is.
    pub fn owner(self) -> WikiOwner {
        match self {
            WikiAccess::Project(access) => WikiOwner::Project(access.project().id),
            WikiAccess::Group(access) => WikiOwner::Group(access.group().id),
        }
    }

    /// Who acts.
    pub fn actor(self) -> &'a Actor {
        match self {
            WikiAccess::Project(access) => access.actor(),
            WikiAccess::Group(access) => access.actor(),
        }
    }

    /// Checks that the actor may read the wiki.
    pub fn require_read(self) -> CoreResult<()> {
        match self {
            WikiAccess::Project(access) => access.require(ProjectAction::ReadWiki),
            WikiAccess::Group(access) => access.require(GroupAction::ReadWiki),
        }
    }

    /// Checks that the actor may write the wiki.
    pub fn require_edit(self) -> CoreResult<()> {
        match self {
            WikiAccess::Project(access) => access.require(ProjectAction::EditWiki),
            WikiAccess::Group(access) => access.require(GroupAction::EditWiki),
        }
    }

    /// Whether the actor may write the wiki.
    pub fn can_edit(self) -> bool {
        self.require_edit().is_ok()
    }

    pub(super) fn repo(self) -> RepoId {
        wiki_repo(self.owner())
    }
}

/// The repository of a wiki.
pub fn wiki_repo(owner: WikiOwner) -> RepoId {
    match owner {
        WikiOwner::Project(project) => RepoId::Wiki(project),
        WikiOwner::Group(group) => RepoId::GroupWiki(group),
    }
}
