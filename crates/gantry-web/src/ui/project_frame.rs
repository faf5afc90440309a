//! The frame every project page shares: the project, who the visitor is to it (one
//! `ProjectAccess`, read once per request and handed to every core operation the page calls, and
//! asked for the page's buttons), breadcrumbs. Pages load it first and render inside it.

use gantry_core::ProjectRow;
use gantry_core::manage::groups::Lookup;
use gantry_core::policy::{ProjectAccess, ProjectAction};
use gantry_types::AccessLevel;

use super::{Crumb, breadcrumbs};
use crate::AppState;
use crate::auth::PageActor;
use crate::error::PageError;
use crate::namespace_dispatch::ProjectTarget;

/// A project page's frame: the project, who the visitor is to it (read once per request and
/// handed to every core operation the page calls), breadcrumbs and tabs.
pub struct ProjectFrame {
    pub project: ProjectRow,
    pub access: ProjectAccess,
    pub role: Option<AccessLevel>,
    pub crumbs: Vec<Crumb>,
    /// The visitor may change settings (Maintainer).
    pub can_admin: bool,
    /// The visitor may push (Developer, project not archived).
    pub can_push: bool,
    /// The open issues the visitor may see (the Issues tab's count).
    /// As shown (`count_text`: the count stops at `COUNT_LIMIT`).
    pub open_issues: String,
}

impl ProjectFrame {
    pub async fn load(state: &AppState, visitor: &PageActor, target: ProjectTarget) -> Result<ProjectFrame, PageError> {
        let mut frame = ProjectFrame::load_uncounted(state, visitor, target).await?;
        let open_issues = state.core.plan().count_open_issues(&frame.access).await.map_err(|e| visitor.error(e))?;
        frame.set_open_issues(open_issues);
        Ok(frame)
    }

    /// The frame without the Issues tab's count, for a page that counts the open issues itself
    /// and hands the count over with [`ProjectFrame::set_open_issues`].
    pub async fn load_uncounted(
        state: &AppState,
        visitor: &PageActor,
        target: ProjectTarget,
    ) -> Result<ProjectFrame, PageError> {
        let access =
            state.core.project_access(&visitor.actor, &Lookup::Id(target.0.0)).await.map_err(|e| visitor.error(e))?;
        let project = access.project().clone();
        let chain = state.core.manage().namespace_chain(project.namespace_id).await?;
        let crumbs = breadcrumbs(&chain, Some(&project));
        Ok(ProjectFrame {
            open_issues: String::new(),
            can_admin: access.can(ProjectAction::Update),
            can_push: access.can(ProjectAction::PushCode),
            role: access.level(),
            project,
            access,
            crumbs,
        })
    }

    /// The Issues tab's count: the open issues the visitor may see (counted up to the limit).
    pub fn set_open_issues(&mut self, count: i64) {
        self.open_issues = super::count_text(count);
    }

    /// Checks that the visitor may do `action`, as an error page when not.
    pub fn require(&self, visitor: &PageActor, action: ProjectAction) -> Result<(), PageError> {
        self.access.require(action).map_err(|e| visitor.error(e))
    }
}
