//! Issue boards of a project or a group, several of each: a name, whether the open and closed
//! columns show, and lists between them, one per label, milestone, person or iteration, in
//! order.
//! Reporters and above manage boards and lists (GitLab's rule); whoever sees the issues sees the
//! boards. A project or group has no board until its boards are first looked at, when one
//! called "Development" is made, as GitLab does.
//!
//! A board's columns are lists of issues drawn through the issue listing of `issues` (so a
//! confidential issue or a private project's never shows to someone who may not see it): the
//! open column (open issues in no list), one per list (open issues with its label, in its
//! milestone, assigned to its person, in its iteration), and the closed column. Moving a card
//! is one change of its issue through `update_issue` (the same checks and system notes): into
//! a label's list adds the label and takes off the one of the list it left, into the closed
//! column closes it and takes off the labels of the board's lists, out of it reopens it, into
//! a milestone's list sets the milestone (back to the open column takes it off), into a
//! person's assigns them and into an iteration's puts the issue in it (back to the open column
//! takes it out); the new place between two cards is its `relative_position`. Who may edit the
//! issue may move it within a list, close and reopen it; moves that change labels, milestone,
//! assignees or iteration need Reporter, as those changes do.

use gantry_db::Conn;
use gantry_db::manage::projects::ProjectKey;
use gantry_db::plan::boards::{self as db, BoardFields};
pub use gantry_db::plan::boards::{BoardListRow, BoardOwner, BoardRow, ListFor};
use gantry_db::plan::iterations::{self as iterations_db, IterationRow};
use gantry_db::plan::labels::{self as labels_db, LabelRow};
use gantry_db::plan::milestones::{self as milestones_db, MilestoneRow};
use gantry_db::plan::users_by_ids;
use gantry_types::{BoardId, BoardListId, IssueId, NamespaceId, UserId};

use super::issues::IssuesOf;
use crate::policy::{GroupAccess, GroupAction, ProjectAccess, ProjectAction};
use crate::{Actor, CoreError, CoreResult, Page, UserRow};

/// A board column counts its cards up to this many, then reads "more" (each column's count is
/// part of every board page, so it stays cheap however many issues a project has).
pub const BOARD_COUNT_LIMIT: i64 = 1_000;
/// Longest board name (GitLab's).
const MAX_NAME: usize = 255;
/// The name of the board made on the first visit (GitLab's).
pub const FIRST_BOARD: &str = "Development";
/// Most lists a board has.
const MAX_LISTS: usize = 50;

/// Whose boards an operation is about.
#[derive(Debug, Clone, Copy)]
pub enum BoardScope<'a> {
    Project(&'a ProjectAccess),
    Group(&'a GroupAccess),
}

impl BoardScope<'_> {
    fn owner(self) -> BoardOwner {
        match self {
            BoardScope::Project(access) => BoardOwner::Project(access.project().id),
            BoardScope::Group(access) => BoardOwner::Group(access.group().id),
        }
    }

    /// Checks that the actor may see the boards here (whoever sees the issues).
    pub fn require_read(self) -> CoreResult<()> {
        match self {
            BoardScope::Project(access) => access.require(ProjectAction::ReadIssues),
            BoardScope::Group(access) => access.require(GroupAction::Read),
        }
    }

    /// Checks that the actor may manage the boards here (Reporters and above).
    pub fn require_manage(self) -> CoreResult<()> {
        match self {
            BoardScope::Project(access) => access.require(ProjectAction::ManageBoards),
            BoardScope::Group(access) => access.require(GroupAction::ManageBoards),
        }
    }

    /// Whether the actor may manage the boards here.
    pub fn can_manage(self) -> bool {
        self.require_manage().is_ok()
    }

    pub(super) fn issues_of(&self) -> IssuesOf<'_> {
        match *self {
            BoardScope::Project(access) => IssuesOf::Project(access),
            BoardScope::Group(access) => IssuesOf::Group(access),
        }
    }
}

/// A list with what it is for.
#[derive(Debug, Clone)]
pub struct BoardList {
    pub list: BoardListRow,
    pub label: Option<LabelRow>,
    pub milestone: Option<MilestoneRow>,
    pub assignee: Option<UserRow>,
    pub iteration: Option<IterationRow>,
}

impl BoardList {
    /// What the list is called on the page.
    pub fn title(&self) -> String {
        if let Some(label) = &self.label {
            label.title.clone()
        } else if let Some(milestone) = &self.milestone {
            milestone.title.clone()
        } else if let Some(user) = &self.assignee {
            format!("@{}", user.username)
        } else if let Some(iteration) = &self.iteration {
            super::iterations::iteration_name(iteration)
        } else {
            String::new()
        }
    }
}

/// What a board's lists may be for (Reporters see these choices).
#[derive(Debug, Clone, Default)]
pub struct ListChoices {
    pub labels: Vec<LabelRow>,
    pub milestones: Vec<MilestoneRow>,
    /// The current and upcoming iterations (at most 100, by start date).
    pub iterations: Vec<IterationRow>,
}

/// A board with its lists, left to right.
#[derive(Debug, Clone)]
pub struct BoardView {
    pub board: BoardRow,
    pub lists: Vec<BoardList>,
}

/// A board as asked for: on create a missing name is refused; on update what is missing stays.
#[derive(Debug, Clone, Default)]
pub struct BoardInput {
    pub name: Option<String>,
    pub hide_backlog_list: Option<bool>,
    pub hide_closed_list: Option<bool>,
}

/// A column of a board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// Open issues in no list (GitLab's backlog, "Open").
    Open,
    List(BoardListId),
    Closed,
}

/// A card to move: its issue, the column it leaves and the one it goes to, and where in that
/// column (between two cards, either may be missing).
#[derive(Debug, Clone)]
pub struct CardMove {
    pub issue: IssueId,
    pub from: Column,
    pub to: Column,
    /// The card that will come just before it.
    pub after: Option<IssueId>,
    /// The card that will come just after it.
    pub before: Option<IssueId>,
}

/// A board name as stored: trimmed, 1 to 255 characters, one line.
pub fn check_board_name(name: &str) -> CoreResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(CoreError::invalid("name", "can't be blank"));
    }
    if name.chars().count() > MAX_NAME {
        return Err(CoreError::invalid("name", "is too long (maximum is 255 characters)"));
    }
    if name.chars().any(char::is_control) {
        return Err(CoreError::invalid("name", "is invalid: a name is one line of text"));
    }
    Ok(name.to_owned())
}

impl super::Plan<'_> {
    /// The boards of a project or a group, oldest first. With `make_first` (the boards page),
    /// the first look makes one called "Development" when there is none, as GitLab's page does
    /// (its API lists none).
    pub async fn list_boards(&self, scope: BoardScope<'_>, make_first: bool) -> CoreResult<Vec<BoardView>> {
        scope.require_read()?;
        let mut conn = self.db.conn().await?;
        let mut boards = db::list_boards(&mut conn, scope.owner()).await?;
        if make_first && boards.is_empty() && db::insert_first_board(&mut conn, scope.owner(), FIRST_BOARD).await? {
            tracing::info!(owner = ?scope.owner(), "first issue board made");
            boards = db::list_boards(&mut conn, scope.owner()).await?;
        }
        let mut views = Vec::with_capacity(boards.len());
        for board in boards {
            views.push(load_lists(&mut conn, scope, board).await?);
        }
        Ok(views)
    }

    /// One board of exactly this project or group, with its lists.
    pub async fn find_board(&self, scope: BoardScope<'_>, id: BoardId) -> CoreResult<BoardView> {
        scope.require_read()?;
        let mut conn = self.db.conn().await?;
        load_board(&mut conn, scope, id).await
    }

    /// Makes a board (Reporters and above), with no lists.
    pub async fn create_board(&self, scope: BoardScope<'_>, input: &BoardInput) -> CoreResult<BoardView> {
        scope.require_manage()?;
        let name = check_board_name(input.name.as_deref().unwrap_or(""))?;
        let fields = BoardFields {
            name: &name,
            hide_backlog_list: input.hide_backlog_list.unwrap_or(false),
            hide_closed_list: input.hide_closed_list.unwrap_or(false),
        };
        let mut conn = self.db.conn().await?;
        let id = db::insert_board(&mut conn, scope.owner(), &fields).await?;
        tracing::info!(board.id = %id, board = %name, "board created");
        load_board(&mut conn, scope, id).await
    }

    /// Renames a board or shows or hides its open and closed columns.
    pub async fn update_board(&self, scope: BoardScope<'_>, id: BoardId, input: &BoardInput) -> CoreResult<BoardView> {
        scope.require_manage()?;
        let mut conn = self.db.conn().await?;
        let board = db::find_board(&mut conn, scope.owner(), id).await?.ok_or(CoreError::NotFound("board"))?;
        let name = match &input.name {
            Some(name) => check_board_name(name)?,
            None => board.name.clone(),
        };
        let fields = BoardFields {
            name: &name,
            hide_backlog_list: input.hide_backlog_list.unwrap_or(board.hide_backlog_list),
            hide_closed_list: input.hide_closed_list.unwrap_or(board.hide_closed_list),
        };
        db::update_board(&mut conn, id, &fields).await?;
        load_board(&mut conn, scope, id).await
    }

    /// Deletes a board with its lists (the issues stay as they are).
    pub async fn delete_board(&self, scope: BoardScope<'_>, id: BoardId) -> CoreResult<BoardRow> {
        scope.require_manage()?;
        let mut tx = self.db.begin().await?;
        let board = db::find_board(&mut tx, scope.owner(), id).await?.ok_or(CoreError::NotFound("board"))?;
        db::delete_board(&mut tx, id).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(board.id = %id, board = %board.name, "board deleted");
        Ok(board)
    }

    /// Adds a list at the right end of a board: for a label, a milestone, a person or an
    /// iteration the project (or group) may use; one the board has already is a conflict.
    pub async fn create_board_list(
        &self,
        scope: BoardScope<'_>,
        board: BoardId,
        list_for: ListFor,
    ) -> CoreResult<BoardList> {
        scope.require_manage()?;
        let mut tx = self.db.begin().await?;
        let view = load_board(&mut tx, scope, board).await?;
        if view.lists.len() >= MAX_LISTS {
            return Err(CoreError::invalid("list", format!("cannot be added: a board has at most {MAX_LISTS} lists")));
        }
        match list_for {
            ListFor::Label(id) => {
                usable_labels(&mut tx, scope).await?.into_iter().find(|label| label.id == id).ok_or_else(|| {
                    CoreError::invalid("label_id", format!("is {id}, which is not a label this board may use"))
                })?;
            }
            ListFor::Milestone(id) => {
                usable_milestones(&mut tx, scope).await?.into_iter().find(|m| m.id == id).ok_or_else(|| {
                    CoreError::invalid("milestone_id", format!("is {id}, which is not a milestone this board may use"))
                })?;
            }
            ListFor::Assignee(id) => check_assignee(&mut tx, scope, id).await?,
            ListFor::Iteration(id) => {
                let groups = iteration_groups(&mut tx, scope).await?;
                iterations_db::find_iteration(&mut tx, id)
                    .await?
                    .filter(|iteration| groups.contains(&iteration.group_id))
                    .ok_or_else(|| {
                        CoreError::invalid(
                            "iteration_id",
                            format!("is {id}, which is not an iteration this board may use"),
                        )
                    })?;
            }
        }
        let id = db::insert_list(&mut tx, board, list_for)
            .await
            .map_err(crate::manage::conflict_as("List already exists on this board"))?;
        let view = load_board(&mut tx, scope, board).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(board.id = %board, list.id = %id, "board list added");
        view.lists.into_iter().find(|list| list.list.id == id).ok_or(CoreError::NotFound("list"))
    }

    /// What lists of a board may be for (Reporters see these choices): the labels, milestones
    /// and open iterations of the project and its groups, or of the group and its ancestors.
    pub async fn board_list_choices(&self, scope: BoardScope<'_>) -> CoreResult<ListChoices> {
        scope.require_manage()?;
        let mut conn = self.db.conn().await?;
        let labels = usable_labels(&mut conn, scope).await?;
        let milestones = usable_milestones(&mut conn, scope).await?;
        drop(conn);
        let query = super::iterations::IterationQuery { include_ancestors: true, ..Default::default() };
        let iteration_scope = match scope {
            BoardScope::Project(access) => super::iterations::IterationScope::Project(access),
            BoardScope::Group(access) => super::iterations::IterationScope::Group(access),
        };
        let (iterations, _) = self.list_iterations(iteration_scope, &query, Page { limit: 100, offset: 0 }).await?;
        Ok(ListChoices { labels, milestones, iterations })
    }

    /// One list of a board.
    pub async fn find_board_list(
        &self,
        scope: BoardScope<'_>,
        board: BoardId,
        id: BoardListId,
    ) -> CoreResult<BoardList> {
        scope.require_read()?;
        let mut conn = self.db.conn().await?;
        let view = load_board(&mut conn, scope, board).await?;
        view.lists.into_iter().find(|list| list.list.id == id).ok_or(CoreError::NotFound("list"))
    }

    /// Moves a list to `position` (0 is the leftmost; beyond the end is the end); the others
    /// close up around it.
    pub async fn move_board_list(
        &self,
        scope: BoardScope<'_>,
        board: BoardId,
        id: BoardListId,
        position: i64,
    ) -> CoreResult<BoardList> {
        scope.require_manage()?;
        if position < 0 {
            return Err(CoreError::invalid("position", "must be 0 or more"));
        }
        let mut tx = self.db.begin().await?;
        let view = load_board(&mut tx, scope, board).await?;
        let mut order: Vec<BoardListId> = view.lists.iter().map(|list| list.list.id).collect();
        let from = order.iter().position(|list| *list == id).ok_or(CoreError::NotFound("list"))?;
        order.remove(from);
        let to = usize::try_from(position).unwrap_or(usize::MAX).min(order.len());
        order.insert(to, id);
        for (index, list) in order.iter().enumerate() {
            db::set_list_position(&mut tx, *list, i64::try_from(index).unwrap_or(i64::MAX)).await?;
        }
        let view = load_board(&mut tx, scope, board).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        view.lists.into_iter().find(|list| list.list.id == id).ok_or(CoreError::NotFound("list"))
    }

    /// Removes a list from a board (its issues keep their labels); the others close up.
    pub async fn delete_board_list(&self, scope: BoardScope<'_>, board: BoardId, id: BoardListId) -> CoreResult<()> {
        scope.require_manage()?;
        let mut tx = self.db.begin().await?;
        let view = load_board(&mut tx, scope, board).await?;
        if !view.lists.iter().any(|list| list.list.id == id) {
            return Err(CoreError::NotFound("list"));
        }
        db::delete_list(&mut tx, id).await?;
        for (index, list) in view.lists.iter().filter(|list| list.list.id != id).enumerate() {
            db::set_list_position(&mut tx, list.list.id, i64::try_from(index).unwrap_or(i64::MAX)).await?;
        }
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(board.id = %board, list.id = %id, "board list removed");
        Ok(())
    }
}

/// A board of exactly this owner with its lists.
pub(super) async fn load_board(conn: &mut Conn, scope: BoardScope<'_>, id: BoardId) -> CoreResult<BoardView> {
    let board = db::find_board(conn, scope.owner(), id).await?.ok_or(CoreError::NotFound("board"))?;
    load_lists(conn, scope, board).await
}

/// A board's lists with their labels, milestones, people and iterations.
async fn load_lists(conn: &mut Conn, scope: BoardScope<'_>, board: BoardRow) -> CoreResult<BoardView> {
    let rows = db::lists_of(conn, board.id).await?;
    let needs = |kind: &str| rows.iter().any(|row| row.list_for.list_type() == kind);
    let labels = if needs("label") { usable_labels(conn, scope).await? } else { Vec::new() };
    let milestones = if needs("milestone") { usable_milestones(conn, scope).await? } else { Vec::new() };
    let user_ids: Vec<UserId> = rows
        .iter()
        .filter_map(|row| match row.list_for {
            ListFor::Assignee(id) => Some(id),
            _ => None,
        })
        .collect();
    let users = users_by_ids(conn, &user_ids).await?;
    let iteration_ids: Vec<_> = rows
        .iter()
        .filter_map(|row| match row.list_for {
            ListFor::Iteration(id) => Some(id),
            _ => None,
        })
        .collect();
    let iterations = iterations_db::iterations_by_ids(conn, &iteration_ids).await?;
    let lists = rows
        .into_iter()
        .map(|list| {
            let (mut label, mut milestone, mut assignee, mut iteration) = (None, None, None, None);
            match list.list_for {
                ListFor::Label(id) => label = labels.iter().find(|l| l.id == id).cloned(),
                ListFor::Milestone(id) => milestone = milestones.iter().find(|m| m.id == id).cloned(),
                ListFor::Assignee(id) => assignee = users.iter().find(|u| u.id == id).cloned(),
                ListFor::Iteration(id) => iteration = iterations.iter().find(|it| it.id == id).cloned(),
            }
            BoardList { list, label, milestone, assignee, iteration }
        })
        .collect();
    Ok(BoardView { board, lists })
}

/// The labels a board's lists may be for: a project's own and its groups', a group's own and
/// its ancestors'.
async fn usable_labels(conn: &mut Conn, scope: BoardScope<'_>) -> CoreResult<Vec<LabelRow>> {
    Ok(match scope {
        BoardScope::Project(access) => labels_db::list_project_labels(conn, access.project().id).await?,
        BoardScope::Group(access) => labels_db::list_group_labels(conn, access.group().id, true).await?,
    })
}

/// The milestones a board's lists may be for, as the labels.
async fn usable_milestones(conn: &mut Conn, scope: BoardScope<'_>) -> CoreResult<Vec<MilestoneRow>> {
    Ok(match scope {
        BoardScope::Project(access) => milestones_db::list_project_milestones(conn, access.project().id, true).await?,
        BoardScope::Group(access) => milestones_db::list_group_milestones(conn, access.group().id, true).await?,
    })
}

/// The groups whose iterations a board's lists may be for: a project's groups, a group and
/// its ancestors.
async fn iteration_groups(conn: &mut Conn, scope: BoardScope<'_>) -> CoreResult<Vec<NamespaceId>> {
    match scope {
        BoardScope::Project(access) => super::iterations::project_groups(conn, access).await,
        BoardScope::Group(access) => super::iterations::group_chain(conn, access.group().id, true).await,
    }
}

/// Refuses a person a list may not be for: no active account, or one who cannot see the
/// project or group.
async fn check_assignee(conn: &mut Conn, scope: BoardScope<'_>, id: UserId) -> CoreResult<()> {
    let user = gantry_db::manage::users::find_user_by_id(conn, id)
        .await?
        .filter(|user| !user.blocked)
        .ok_or_else(|| CoreError::invalid("assignee_id", format!("is {id}, which is no active user")))?;
    let who = Actor::User(user.clone());
    let sees = match scope {
        BoardScope::Project(access) => {
            ProjectAccess::load(conn, &who, ProjectKey::Id(access.project().id)).await.is_ok()
        }
        BoardScope::Group(access) => {
            GroupAccess::load(conn, &who, gantry_db::manage::namespaces::NamespaceKey::Id(access.group().id))
                .await
                .is_ok()
        }
    };
    if !sees {
        return Err(CoreError::invalid("assignee_id", format!("is @{}, who cannot see this board", user.username)));
    }
    Ok(())
}
