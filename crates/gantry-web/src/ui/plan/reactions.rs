//! Emoji reactions on an issue's page: the buttons under the description and each comment
//! (a reaction with its count, pressed when the visitor gave it: pressing takes it back) and the
//! form that adds one of the common emoji; the handler both post to.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use gantry_core::CoreError;
use gantry_core::plan::award_emoji::{AwardRow, AwardTarget, COMMON_EMOJI, emoji_glyph};
use gantry_types::NoteId;

use super::issue::{after_change, href};
use super::issue_iid;
use super::issues::Fields;
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::namespace_dispatch::ProjectTarget;
use crate::ui::PageResult;
use crate::ui::project_frame::ProjectFrame;

/// The emoji reactions on the issue or one comment, and the form that adds one.
#[derive(Template)]
#[template(path = "projects/issues/_reactions.html")]
pub struct Reactions {
    /// Where the buttons post.
    action: String,
    csrf: String,
    note_id: Option<i64>,
    select_id: String,
    items: Vec<Reaction>,
    /// The emoji offered (name, glyph); none for who may not react.
    choices: Vec<(&'static str, &'static str)>,
}

/// One emoji's reactions.
pub struct Reaction {
    name: String,
    glyph: &'static str,
    count: usize,
    /// The visitor gave it (the button takes it back).
    mine: bool,
    /// Who gave it: `@ada, @bob`.
    who: String,
}

impl Reactions {
    pub(super) fn new(
        frame: &ProjectFrame,
        visitor: &PageActor,
        iid: i64,
        note_id: Option<i64>,
        awards: &[&AwardRow],
    ) -> Reactions {
        let me = visitor.actor.user().map(|user| user.id);
        let mut items: Vec<Reaction> = Vec::new();
        for award in awards {
            let mine = Some(award.user.id) == me;
            match items.iter_mut().find(|item| item.name == award.name) {
                Some(item) => {
                    item.count += 1;
                    item.mine |= mine;
                    item.who.push_str(&format!(", @{}", award.user.username));
                }
                None => items.push(Reaction {
                    name: award.name.clone(),
                    glyph: emoji_glyph(&award.name),
                    count: 1,
                    mine,
                    who: format!("@{}", award.user.username),
                }),
            }
        }
        let can_react = me.is_some();
        Reactions {
            action: format!("{}/award", href(frame, iid)),
            csrf: visitor.csrf.clone(),
            note_id,
            select_id: note_id.map_or_else(|| "react_issue".to_owned(), |id| format!("react_note_{id}")),
            items,
            choices: if can_react {
                COMMON_EMOJI.iter().map(|name| (*name, emoji_glyph(name))).collect()
            } else {
                Vec::new()
            },
        }
    }
}

/// `POST /{project}/-/issues/{iid}/award` (`name`, and `note_id` for a comment's): gives the
/// visitor's reaction, or takes it back when they gave it already.
pub async fn toggle_award(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(iid): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let iid = issue_iid(&iid).map_err(|e| visitor.error(e))?;
    let fields = Fields(form);
    let award_target = match fields.get("note_id") {
        "" => AwardTarget::Issue(iid),
        note => AwardTarget::Note {
            iid,
            note: note.parse::<NoteId>().map_err(|_| visitor.error(CoreError::NotFound("note")))?,
        },
    };
    let name = fields.get("name").to_owned();
    let outcome = state.core.plan().toggle_award_emoji(&frame.access, award_target, &name).await;
    match outcome {
        Ok(()) => {
            let anchor = match award_target {
                AwardTarget::Note { note, .. } => format!("#note_{}", note.0),
                AwardTarget::Issue(_) => String::new(),
            };
            crate::ui::see_other(&format!("{}{anchor}", href(&frame, iid)))
        }
        Err(error) => after_change(&state, &visitor, frame, iid, Err(error), String::new()).await,
    }
}
