//! The issue boards pages of a project (`/{project}/-/boards`) and of a group
//! (`/{group}/-/boards`): a board's columns — Open (issues in no list), one per list, Closed —
//! with their cards (number, title, labels, assignees, weight, milestone, iteration), a switcher between the
//! boards, filters in the query string (`label_name`, `assignee_username`, `milestone_title`,
//! `weight`, `search`), and for Reporters forms that create, rename and delete boards and add
//! and remove lists. Every card has a small form, "Move to [column]", that works without
//! JavaScript; `assets/site.js` lets cards be dragged between columns, posting the same form
//! (with the cards it lands between). Forms answer 303 back to the board. The handlers, one per
//! route for a project and for a group, are in `board_pages.rs` with the forms that delete a
//! board and add and remove lists.

use askama::Template;
use axum::http::StatusCode;
use gantry_core::CoreError;
use gantry_core::manage::groups::Lookup;
use gantry_core::plan::boards::{BOARD_COUNT_LIMIT, BoardInput, BoardScope, BoardView, CardMove, Column, ListFor};
use gantry_core::plan::issues::{AssigneeQuery, IssueQuery, IssueView, MilestoneFilter, UserRef, WeightFilter};
use gantry_core::plan::iterations::{iteration_name, iteration_period};
use gantry_core::policy::GroupAccess;
use gantry_types::{BoardId, BoardListId, IssueId};
use serde::Deserialize;

use super::LabelChip;
use super::issues::Fields;
use crate::AppState;
use crate::auth::PageActor;
use crate::error::PageError;
use crate::namespace_dispatch::{NamespaceTarget, ProjectTarget};
use crate::ui::flash::{Flash, see_other_with};
use crate::ui::project_frame::ProjectFrame;
use crate::ui::{Chrome, Crumb, PageResult, breadcrumbs, form_error, query_value, render};

/// Most cards a column shows.
const MAX_CARDS: i64 = 200;
/// Cards a column shows first, and how many more "Show more" adds (GitLab's page of cards).
const CARDS_PAGE: i64 = 20;

enum Place {
    Project(Box<ProjectFrame>),
    Group(Box<GroupAccess>),
}

/// Where boards are: a project (framed as its pages) or a group.
pub struct Home {
    place: Place,
    /// The group's trail, for a group's pages.
    pub crumbs: Vec<Crumb>,
    pub name: String,
    /// `/{path}/-/boards`.
    pub base: String,
    /// The group's boards show each card's project.
    pub is_group: bool,
}

impl Home {
    pub(super) async fn of_project(
        state: &AppState,
        visitor: &PageActor,
        target: ProjectTarget,
    ) -> Result<Home, PageError> {
        let frame = ProjectFrame::load(state, visitor, target).await?;
        let base = format!("/{}/-/boards", frame.project.full_path);
        Ok(Home {
            name: frame.project.name.clone(),
            place: Place::Project(Box::new(frame)),
            crumbs: Vec::new(),
            base,
            is_group: false,
        })
    }

    pub(super) async fn of_group(
        state: &AppState,
        visitor: &PageActor,
        target: NamespaceTarget,
    ) -> Result<Home, PageError> {
        let access =
            state.core.group_access(&visitor.actor, &Lookup::Id(target.0.0)).await.map_err(|e| visitor.error(e))?;
        let chain = state.core.manage().namespace_chain(access.group().id).await?;
        Ok(Home {
            crumbs: breadcrumbs(&chain, None),
            name: access.group().name.clone(),
            base: format!("/{}/-/boards", access.group().full_path),
            place: Place::Group(Box::new(access)),
            is_group: true,
        })
    }

    /// The project's frame, for a project's pages.
    pub fn project(&self) -> Option<&ProjectFrame> {
        match &self.place {
            Place::Project(frame) => Some(frame),
            Place::Group(_) => None,
        }
    }

    pub(super) fn scope(&self) -> BoardScope<'_> {
        match &self.place {
            Place::Project(frame) => BoardScope::Project(&frame.access),
            Place::Group(access) => BoardScope::Group(access),
        }
    }
}

/// The page's filters, as GitLab's board URLs carry them.
#[derive(Debug, Default, Deserialize)]
pub struct BoardFilters {
    #[serde(default)]
    label_name: String,
    #[serde(default)]
    assignee_username: String,
    #[serde(default)]
    milestone_title: String,
    #[serde(default)]
    weight: String,
    #[serde(default)]
    search: String,
    /// The column that shows more than its first cards (its key), and how many it shows.
    #[serde(default)]
    column: String,
    #[serde(default)]
    cards: Option<String>,
}

impl BoardFilters {
    /// How many cards `column` shows: the first [`CARDS_PAGE`], or as many as asked of the one
    /// column that shows more (up to [`MAX_CARDS`]).
    fn cards_of(&self, column: &str) -> i64 {
        let asked = self.cards.as_deref().and_then(|n| n.trim().parse::<i64>().ok());
        match asked {
            Some(asked) if self.column == column => asked.clamp(CARDS_PAGE, MAX_CARDS),
            _ => CARDS_PAGE,
        }
    }

    fn query(&self) -> Result<IssueQuery, CoreError> {
        let mut query = IssueQuery {
            search: Some(self.search.trim().to_owned()).filter(|s| !s.is_empty()),
            labels: Some(self.label_name.trim().to_owned()).filter(|s| !s.is_empty()).into_iter().collect(),
            ..IssueQuery::default()
        };
        query.assignee = match self.assignee_username.trim().trim_start_matches('@') {
            "" => AssigneeQuery::Ignore,
            name if name.eq_ignore_ascii_case("none") => AssigneeQuery::Nobody,
            name if name.eq_ignore_ascii_case("any") => AssigneeQuery::Anybody,
            name => AssigneeQuery::User(UserRef::Username(name.to_owned())),
        };
        query.milestone = match self.milestone_title.trim() {
            "" => MilestoneFilter::Ignore,
            title if title.eq_ignore_ascii_case("none") => MilestoneFilter::Nobody,
            title if title.eq_ignore_ascii_case("any") => MilestoneFilter::Anybody,
            title => MilestoneFilter::Title(title.to_owned()),
        };
        query.weight =
            match self.weight.trim() {
                "" => WeightFilter::Ignore,
                value if value.eq_ignore_ascii_case("none") => WeightFilter::Nobody,
                value if value.eq_ignore_ascii_case("any") => WeightFilter::Anybody,
                value => {
                    WeightFilter::Is(value.parse::<i64>().ok().filter(|weight| *weight >= 0).ok_or_else(|| {
                        CoreError::invalid_input("weight", "must be a whole number from 0, None or Any")
                    })?)
                }
            };
        Ok(query)
    }

    /// The query string that keeps these filters (`?…`, or nothing).
    fn query_string(&self) -> String {
        let pairs = [
            ("label_name", &self.label_name),
            ("assignee_username", &self.assignee_username),
            ("milestone_title", &self.milestone_title),
            ("weight", &self.weight),
            ("search", &self.search),
        ];
        let kept: Vec<String> = pairs
            .iter()
            .filter(|(_, value)| !value.trim().is_empty())
            .map(|(name, value)| format!("{name}={}", query_value(value.trim())))
            .collect();
        if kept.is_empty() { String::new() } else { format!("?{}", kept.join("&")) }
    }

    fn is_empty(&self) -> bool {
        self.query_string().is_empty()
    }
}

/// A board in the switcher.
pub struct BoardLink {
    pub name: String,
    pub href: String,
    pub current: bool,
}

/// A card.
pub struct Card {
    pub id: i64,
    pub iid: i64,
    /// `#12`, or `group/project#12` on a group's board.
    pub reference: String,
    pub title: String,
    pub href: String,
    pub confidential: bool,
    pub labels: Vec<LabelChip>,
    pub assignees: Vec<String>,
    pub weight: Option<i64>,
    pub milestone: Option<String>,
    pub iteration: Option<String>,
    /// The visitor may move it (has its "Move to" form and may drag it).
    pub movable: bool,
}

impl Card {
    fn new(view: &IssueView, group: bool, movable: bool) -> Card {
        Card {
            id: view.issue.id.0,
            iid: view.issue.iid,
            reference: if group {
                format!("{}#{}", view.project_path, view.issue.iid)
            } else {
                format!("#{}", view.issue.iid)
            },
            title: view.issue.title.clone(),
            href: format!("/{}/-/issues/{}", view.project_path, view.issue.iid),
            confidential: view.issue.confidential,
            labels: view.labels.iter().map(LabelChip::new).collect(),
            assignees: view.assignees.iter().map(|user| user.username.clone()).collect(),
            weight: view.issue.weight,
            milestone: view.milestone.as_ref().map(|m| m.title.clone()),
            iteration: view.iteration.as_ref().map(iteration_name),
            movable,
        }
    }
}

/// A column of the board.
pub struct ColumnView {
    /// `open`, `closed` or the list's id: what the move forms post.
    pub key: String,
    pub title: String,
    /// `label`, `milestone`, `assignee`, `iteration`, or `open`/`closed`.
    pub kind: &'static str,
    pub color: Option<String>,
    pub count: i64,
    pub cards: Vec<Card>,
    /// The list's id, for the form that removes it.
    pub list_id: Option<i64>,
    /// The board showing more of this column's cards, while it has more to show.
    pub more_href: Option<String>,
}

impl ColumnView {
    /// The count as shown: `1,000+` once the column stopped counting.
    pub fn count_text(&self) -> String {
        crate::ui::count_text_within(self.count, BOARD_COUNT_LIMIT)
    }

    /// How many cards the column does not show, as shown: "many" once the count stopped.
    fn more(&self) -> Option<String> {
        let more = self.count - i64::try_from(self.cards.len()).unwrap_or(i64::MAX);
        if self.count > BOARD_COUNT_LIMIT { Some("many".to_owned()) } else { (more > 0).then(|| more.to_string()) }
    }
}

/// Something a new list may be for.
pub struct ListOption {
    pub value: String,
    pub title: String,
}

#[derive(Template)]
#[template(path = "boards/show.html")]
struct BoardPage {
    chrome: Chrome,
    home: Home,
    tab: &'static str,
    boards: Vec<BoardLink>,
    board_id: i64,
    board_name: String,
    hide_backlog_list: bool,
    hide_closed_list: bool,
    columns: Vec<ColumnView>,
    can_manage: bool,
    filters: BoardFilters,
    filtered: bool,
    /// The board's address with its filters: where the forms come back to.
    here: String,
    label_options: Vec<ListOption>,
    milestone_options: Vec<ListOption>,
    iteration_options: Vec<ListOption>,
    error: Option<String>,
}

impl BoardPage {
    fn more(&self, column: &ColumnView) -> Option<String> {
        column.more()
    }
}

fn column_key(column: Column) -> String {
    match column {
        Column::Open => "open".to_owned(),
        Column::Closed => "closed".to_owned(),
        Column::List(id) => id.0.to_string(),
    }
}

fn parse_column(value: &str, field: &'static str) -> Result<Column, CoreError> {
    match value.trim() {
        "open" | "backlog" => Ok(Column::Open),
        "closed" => Ok(Column::Closed),
        text => text
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(|id| Column::List(BoardListId(id)))
            .ok_or_else(|| CoreError::invalid_input(field, "must be open, closed or a list of this board")),
    }
}

pub(super) fn board_id(visitor: &PageActor, value: &str) -> Result<BoardId, PageError> {
    value
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(BoardId)
        .ok_or_else(|| visitor.error(CoreError::NotFound("board")))
}

async fn board_page(
    state: &AppState,
    visitor: &PageActor,
    home: Home,
    board: Option<BoardId>,
    filters: BoardFilters,
    failure: Option<(StatusCode, String)>,
) -> PageResult {
    let plan = state.core.plan();
    let scope = home.scope();
    let boards = plan.list_boards(scope, true).await.map_err(|e| visitor.error(e))?;
    let view: BoardView = match board {
        Some(id) => boards
            .iter()
            .find(|view| view.board.id == id)
            .cloned()
            .ok_or_else(|| visitor.error(CoreError::NotFound("board")))?,
        None => boards.first().cloned().ok_or_else(|| visitor.error(CoreError::NotFound("board")))?,
    };
    let mut error = failure.as_ref().map(|(_, message)| message.clone());
    let mut status = failure.map_or(StatusCode::OK, |(status, _)| status);
    let mut wanted = vec![];
    if !view.board.hide_backlog_list {
        wanted.push((Column::Open, "Open".to_owned(), "open", None));
    }
    for list in &view.lists {
        let color = list.label.as_ref().map(|label| label.color.clone());
        wanted.push((Column::List(list.list.id), list.title(), list.list.list_for.list_type(), color));
    }
    if !view.board.hide_closed_list {
        wanted.push((Column::Closed, "Closed".to_owned(), "closed", None));
    }
    let query = match filters.query() {
        Ok(query) => Some(query),
        Err(problem) => {
            let (code, message) = form_error(problem);
            (status, error) = (code, Some(message));
            None
        }
    };
    let mut columns = Vec::new();
    for (column, title, kind, color) in wanted {
        let (mut cards, mut count) = (Vec::new(), 0);
        let key = column_key(column);
        let shown = filters.cards_of(&key);
        if let Some(query) = query.as_ref().filter(|_| error.is_none()) {
            let page = gantry_core::Page { offset: 0, limit: shown };
            match plan.column_issues(scope, &view, column, query, page).await {
                Ok((views, total)) => {
                    cards = views.iter().map(|v| Card::new(v, home.is_group, movable(scope, v))).collect();
                    count = total;
                }
                Err(problem @ CoreError::Invalid { .. }) => {
                    let (code, message) = form_error(problem);
                    (status, error) = (code, Some(message));
                }
                Err(problem) => return Err(visitor.error(problem)),
            }
        }
        let list_id = match column {
            Column::List(id) => Some(id.0),
            _ => None,
        };
        let more_href = (count > shown && shown < MAX_CARDS).then(|| {
            let filtered = filters.query_string();
            let joiner = if filtered.is_empty() { '?' } else { '&' };
            let more = (shown + CARDS_PAGE).min(MAX_CARDS);
            format!("{}/{}{filtered}{joiner}column={key}&cards={more}#list-{key}", home.base, view.board.id.0)
        });
        columns.push(ColumnView { key, title, kind, color, count, cards, list_id, more_href });
    }
    let can_manage = scope.can_manage();
    let (mut label_options, mut milestone_options, mut iteration_options) = (Vec::new(), Vec::new(), Vec::new());
    if can_manage {
        let listed = |wanted: ListFor| view.lists.iter().any(|list| list.list.list_for == wanted);
        let choices = plan.board_list_choices(scope).await.map_err(|e| visitor.error(e))?;
        label_options = choices
            .labels
            .iter()
            .filter(|label| !listed(ListFor::Label(label.id)))
            .map(|label| ListOption { value: format!("label:{}", label.id.0), title: label.title.clone() })
            .collect();
        milestone_options = choices
            .milestones
            .iter()
            .filter(|milestone| !listed(ListFor::Milestone(milestone.id)))
            .map(|milestone| ListOption {
                value: format!("milestone:{}", milestone.id.0),
                title: milestone.title.clone(),
            })
            .collect();
        iteration_options = choices
            .iterations
            .iter()
            .filter(|iteration| !listed(ListFor::Iteration(iteration.id)))
            .map(|iteration| ListOption {
                value: format!("iteration:{}", iteration.id.0),
                title: format!("{} ({})", iteration_name(iteration), iteration_period(iteration)),
            })
            .collect();
    }
    // Back here after a move, the column that showed more still does.
    let mut here = format!("{}/{}{}", home.base, view.board.id.0, filters.query_string());
    if let Some(cards) = filters.cards.as_deref().filter(|_| !filters.column.is_empty()) {
        let joiner = if here.contains('?') { '&' } else { '?' };
        here.push_str(&format!("{joiner}column={}&cards={}", query_value(&filters.column), query_value(cards)));
    }
    let page = BoardPage {
        chrome: Chrome::new(visitor),
        tab: "issues",
        boards: boards
            .iter()
            .map(|other| BoardLink {
                name: other.board.name.clone(),
                href: format!("{}/{}", home.base, other.board.id.0),
                current: other.board.id == view.board.id,
            })
            .collect(),
        board_id: view.board.id.0,
        board_name: view.board.name.clone(),
        hide_backlog_list: view.board.hide_backlog_list,
        hide_closed_list: view.board.hide_closed_list,
        columns,
        can_manage,
        filtered: !filters.is_empty(),
        filters,
        here,
        label_options,
        milestone_options,
        iteration_options,
        error,
        home,
    };
    render(status, &page)
}

/// Whether the visitor may move a card: who may edit its issue on a project's board (Reporters,
/// its author and assignees), Reporters of the group on a group's (core decides each move).
fn movable(scope: BoardScope<'_>, view: &IssueView) -> bool {
    match scope {
        BoardScope::Project(access) => access.can_edit_issue(&view.facts()),
        BoardScope::Group(_) => scope.can_manage(),
    }
}

/// Where a form comes back to: the board it was posted from (with its filters), when the form
/// says so and it is this board's address; the board otherwise.
fn back(home: &Home, board: BoardId, form: &Fields) -> String {
    let own = format!("{}/{}", home.base, board.0);
    let asked = form.get("return_to");
    let safe = asked == own || asked.strip_prefix(&own).is_some_and(|rest| rest.starts_with('?'));
    if safe && !asked.contains(['\r', '\n', '#']) { asked.to_owned() } else { own }
}

pub(super) async fn show(
    state: &AppState,
    visitor: &PageActor,
    home: Home,
    board: Option<&str>,
    filters: BoardFilters,
) -> PageResult {
    let board = match board {
        Some(id) => Some(board_id(visitor, id)?),
        None => None,
    };
    board_page(state, visitor, home, board, filters, None).await
}

/// After a form: back to the board with a notice, or the board again with the refusal.
pub(super) async fn answer(
    state: &AppState,
    visitor: &PageActor,
    home: Home,
    board: BoardId,
    form: &Fields,
    outcome: Result<String, CoreError>,
) -> PageResult {
    match outcome {
        Ok(notice) => see_other_with(state, visitor, &back(&home, board, form), &Flash::notice(notice)),
        Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_))) => {
            board_page(state, visitor, home, Some(board), BoardFilters::default(), Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

pub(super) async fn create(state: &AppState, visitor: &PageActor, home: Home, form: Fields) -> PageResult {
    home.scope().require_manage().map_err(|e| visitor.error(e))?;
    let input = BoardInput { name: Some(form.get("name").to_owned()), ..BoardInput::default() };
    match state.core.plan().create_board(home.scope(), &input).await {
        Ok(view) => {
            let notice = Flash::notice(format!("Board {} was created.", view.board.name));
            see_other_with(state, visitor, &format!("{}/{}", home.base, view.board.id.0), &notice)
        }
        Err(error @ CoreError::Invalid { .. }) => {
            board_page(state, visitor, home, None, BoardFilters::default(), Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

pub(super) async fn save(state: &AppState, visitor: &PageActor, home: Home, board: &str, form: Fields) -> PageResult {
    home.scope().require_manage().map_err(|e| visitor.error(e))?;
    let board = board_id(visitor, board)?;
    let input = BoardInput {
        name: Some(form.get("name").to_owned()),
        hide_backlog_list: Some(form.ticked("hide_backlog_list")),
        hide_closed_list: Some(form.ticked("hide_closed_list")),
    };
    let outcome = state
        .core
        .plan()
        .update_board(home.scope(), board, &input)
        .await
        .map(|view| format!("Board {} was saved.", view.board.name));
    answer(state, visitor, home, board, &form, outcome).await
}

pub(super) async fn move_card(
    state: &AppState,
    visitor: &PageActor,
    home: Home,
    board: &str,
    issue: &str,
    form: Fields,
) -> PageResult {
    let board = board_id(visitor, board)?;
    let issue = issue
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(IssueId)
        .ok_or_else(|| visitor.error(CoreError::NotFound("issue")))?;
    let neighbour = |name: &'static str| -> Result<Option<IssueId>, CoreError> {
        match form.get(name).trim() {
            "" => Ok(None),
            text => text
                .parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .map(|id| Some(IssueId(id)))
                .ok_or_else(|| CoreError::invalid_input(name, "must be a card of this board")),
        }
    };
    let outcome = async {
        let card = CardMove {
            issue,
            from: parse_column(form.get("from"), "from")?,
            to: parse_column(form.get("to"), "to")?,
            after: neighbour("move_before_id")?,
            before: neighbour("move_after_id")?,
        };
        let moved = state.core.plan().move_card(home.scope(), board, &card).await?;
        Ok(format!("Issue #{} was moved.", moved.issue.iid))
    }
    .await;
    answer(state, visitor, home, board, &form, outcome).await
}
