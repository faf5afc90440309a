//! Project topics, as GitLab has them: instance-wide labels that anyone may list, that
//! administrators create, change, merge and delete, and that projects carry (a project naming a
//! topic that does not exist yet creates it). Names are unique ignoring case.

use gantry_db::manage::topics::{self, TopicFields};
pub use gantry_db::manage::topics::{TopicFilter, TopicRow};
use gantry_db::{Conn, DbError, Page};
use gantry_types::{ProjectId, TopicId};

use crate::policy::require_admin;
use crate::{Actor, CoreError, CoreResult, ProjectRow};

/// The longest topic name and title, in characters.
pub const MAX_TOPIC_NAME_CHARS: usize = 255;
/// The longest topic description, in characters (GitLab's limit).
pub const MAX_TOPIC_DESCRIPTION_CHARS: usize = 1024;
/// The most topics one project may carry.
pub const MAX_PROJECT_TOPICS: usize = 100;

/// What a topic is made of; `None` leaves a value as it is on update (and is refused on create
/// for the name and the title).
#[derive(Debug, Clone, Default)]
pub struct TopicInput {
    pub name: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
}

/// Checks a topic name: trimmed, 1 to 255 characters, no commas (lists of names are
/// comma-separated) and no control characters.
pub fn parse_topic_name(field: &'static str, text: &str) -> CoreResult<String> {
    let name = text.trim();
    if name.is_empty() {
        return Err(CoreError::invalid(field, "can't be blank"));
    }
    if name.chars().count() > MAX_TOPIC_NAME_CHARS {
        return Err(CoreError::invalid(
            field,
            format!("is too long (at most {MAX_TOPIC_NAME_CHARS} characters per topic)"),
        ));
    }
    if name.contains(',') {
        return Err(CoreError::invalid(field, format!("'{name}' must not contain commas")));
    }
    if name.chars().any(char::is_control) {
        return Err(CoreError::invalid(field, "must not contain control characters"));
    }
    Ok(name.to_owned())
}

/// Checks the topics a project is to carry: each name as [`parse_topic_name`], blanks
/// skipped, repeats (ignoring case) kept once in their first spelling, at most
/// [`MAX_PROJECT_TOPICS`].
pub fn parse_topic_names(names: &[String]) -> CoreResult<Vec<String>> {
    let mut parsed: Vec<String> = Vec::new();
    for name in names.iter().filter(|name| !name.trim().is_empty()) {
        let name = parse_topic_name("topics", name)?;
        if !parsed.iter().any(|seen| seen.to_lowercase() == name.to_lowercase()) {
            parsed.push(name);
        }
        if parsed.len() > MAX_PROJECT_TOPICS {
            return Err(CoreError::invalid("topics", format!("are too many (at most {MAX_PROJECT_TOPICS})")));
        }
    }
    Ok(parsed)
}

fn parse_title(text: &str) -> CoreResult<String> {
    let title = text.trim();
    if title.is_empty() {
        return Err(CoreError::invalid("title", "can't be blank"));
    }
    if title.chars().count() > MAX_TOPIC_NAME_CHARS {
        return Err(CoreError::invalid("title", format!("is too long (at most {MAX_TOPIC_NAME_CHARS} characters)")));
    }
    Ok(title.to_owned())
}

fn parse_description(text: &str) -> CoreResult<String> {
    let description = text.trim();
    if description.chars().count() > MAX_TOPIC_DESCRIPTION_CHARS {
        return Err(CoreError::invalid(
            "description",
            format!("is too long (at most {MAX_TOPIC_DESCRIPTION_CHARS} characters)"),
        ));
    }
    Ok(description.to_owned())
}

/// Maps a taken name to a clear refusal of the `name` field (GitLab answers 400).
fn name_taken(name: &str) -> impl Fn(DbError) -> CoreError + '_ {
    move |error| match error {
        DbError::Conflict(_) => CoreError::invalid("name", format!("'{name}' has already been taken")),
        other => CoreError::from(other),
    }
}

/// Makes a project carry exactly these topics (already checked by [`parse_topic_names`]),
/// creating the ones that do not exist; runs in the caller's transaction.
pub(crate) async fn set_project_topics(conn: &mut Conn, project: ProjectId, names: &[String]) -> CoreResult<()> {
    topics::clear_project_topics(conn, project).await?;
    for name in names {
        let topic = topics::find_or_insert_topic(conn, name).await?;
        topics::add_project_topic(conn, project, topic).await?;
    }
    Ok(())
}

impl super::Manage<'_> {
    /// One page of topics, those carried by the most projects first: anyone may list them.
    pub async fn list_topics(&self, filter: &TopicFilter, page: Page) -> CoreResult<(Vec<TopicRow>, i64)> {
        let mut conn = self.db.conn().await?;
        Ok(topics::list_topics(&mut conn, filter, page).await?)
    }

    /// One topic: anyone may read it.
    pub async fn find_topic(&self, id: TopicId) -> CoreResult<TopicRow> {
        let mut conn = self.db.conn().await?;
        topics::find_topic(&mut conn, id).await?.ok_or(CoreError::NotFound("topic"))
    }

    /// Creates a topic (administrators); the name and the title are required.
    pub async fn create_topic(&self, actor: &Actor, input: &TopicInput) -> CoreResult<TopicRow> {
        let admin = require_admin(actor)?;
        let name = parse_topic_name("name", input.name.as_deref().unwrap_or(""))?;
        let title = parse_title(input.title.as_deref().unwrap_or(""))?;
        let description = parse_description(input.description.as_deref().unwrap_or(""))?;
        let fields = TopicFields { name: &name, title: &title, description: &description };
        let mut conn = self.db.conn().await?;
        let id = topics::insert_topic(&mut conn, &fields).await.map_err(name_taken(&name))?;
        tracing::info!(topic.id = %id, topic.name = %name, by = %admin.id, "topic created");
        topics::find_topic(&mut conn, id).await?.ok_or(CoreError::NotFound("topic"))
    }

    /// Changes a topic's name, title or description (administrators).
    pub async fn update_topic(&self, actor: &Actor, id: TopicId, input: &TopicInput) -> CoreResult<TopicRow> {
        let admin = require_admin(actor)?;
        let mut conn = self.db.conn().await?;
        let topic = topics::find_topic(&mut conn, id).await?.ok_or(CoreError::NotFound("topic"))?;
        let name = match &input.name {
            Some(name) => parse_topic_name("name", name)?,
            None => topic.name.clone(),
        };
        let title = match &input.title {
            Some(title) => parse_title(title)?,
            None => topic.title.clone(),
        };
        let description = match &input.description {
            Some(description) => parse_description(description)?,
            None => topic.description.clone(),
        };
        let fields = TopicFields { name: &name, title: &title, description: &description };
        topics::update_topic(&mut conn, id, &fields).await.map_err(name_taken(&name))?;
        tracing::info!(topic.id = %id, topic.name = %name, by = %admin.id, "topic updated");
        topics::find_topic(&mut conn, id).await?.ok_or(CoreError::NotFound("topic"))
    }

    /// Deletes a topic (administrators); the projects carrying it lose it.
    pub async fn delete_topic(&self, actor: &Actor, id: TopicId) -> CoreResult<()> {
        let admin = require_admin(actor)?;
        let mut conn = self.db.conn().await?;
        let topic = topics::find_topic(&mut conn, id).await?.ok_or(CoreError::NotFound("topic"))?;
        topics::delete_topic(&mut conn, id).await?;
        tracing::info!(topic.id = %id, topic.name = %topic.name, by = %admin.id, "topic deleted");
        Ok(())
    }

    /// Merges `source` into `target` (administrators): the projects carrying the source carry
    /// the target instead, and the source is deleted. Answers the target.
    pub async fn merge_topics(&self, actor: &Actor, source: TopicId, target: TopicId) -> CoreResult<TopicRow> {
        let admin = require_admin(actor)?;
        if source == target {
            return Err(CoreError::invalid("target_topic_id", "must differ from source_topic_id"));
        }
        let mut tx = self.db.begin().await?;
        topics::find_topic(&mut tx, source).await?.ok_or(CoreError::NotFound("source topic"))?;
        topics::find_topic(&mut tx, target).await?.ok_or(CoreError::NotFound("target topic"))?;
        topics::copy_topic_projects(&mut tx, source, target).await?;
        topics::delete_topic(&mut tx, source).await?;
        let merged = topics::find_topic(&mut tx, target).await?.ok_or(CoreError::NotFound("target topic"))?;
        tx.commit().await.map_err(DbError::from)?;
        tracing::info!(source = %source, target = %target, by = %admin.id, "topics merged");
        Ok(merged)
    }

    /// The names of a project's topics, sorted ignoring case. The caller has been allowed to
    /// read the project (its row comes from an access check).
    pub async fn project_topics(&self, project: &ProjectRow) -> CoreResult<Vec<String>> {
        let mut conn = self.db.conn().await?;
        Ok(topics::project_topic_names(&mut conn, project.id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_are_trimmed_and_bounded() {
        assert_eq!(parse_topic_name("name", "  rust ").unwrap(), "rust");
        assert!(parse_topic_name("name", "   ").is_err());
        assert!(parse_topic_name("name", "a,b").is_err());
        assert!(parse_topic_name("name", "tab\there").is_err());
        assert!(parse_topic_name("name", &"x".repeat(MAX_TOPIC_NAME_CHARS)).is_ok());
        assert!(parse_topic_name("name", &"x".repeat(MAX_TOPIC_NAME_CHARS + 1)).is_err());
    }

    #[test]
    fn project_topic_lists_drop_blanks_and_repeats_and_are_bounded() {
        let names: Vec<String> = ["Rust", " ", "rust", "web "].iter().map(|s| s.to_string()).collect();
        assert_eq!(parse_topic_names(&names).unwrap(), vec!["Rust".to_owned(), "web".to_owned()]);
        let many: Vec<String> = (0..=MAX_PROJECT_TOPICS).map(|n| format!("t{n}")).collect();
        assert!(parse_topic_names(&many).is_err());
        assert!(parse_topic_names(&many[..MAX_PROJECT_TOPICS]).is_ok());
    }
}
