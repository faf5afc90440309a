//! Schema migrations: numbered SQL files per backend, embedded in the binary and applied in
//! order, each in its own transaction, recorded in `schema_migrations`.

use sqlx::Row;

use crate::{Backend, Db, DbResult, now_millis};

struct Migration {
    version: i64,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sqlite: include_str!("../migrations/sqlite/0001_foundation.sql"),
        postgres: include_str!("../migrations/postgres/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        sqlite: include_str!("../migrations/sqlite/0002_code.sql"),
        postgres: include_str!("../migrations/postgres/0002_code.sql"),
    },
    Migration {
        version: 3,
        sqlite: include_str!("../migrations/sqlite/0003_ssh_keys.sql"),
        postgres: include_str!("../migrations/postgres/0003_ssh_keys.sql"),
    },
    Migration {
        version: 4,
        sqlite: include_str!("../migrations/sqlite/0004_ci.sql"),
        postgres: include_str!("../migrations/postgres/0004_ci.sql"),
    },
    Migration {
        version: 5,
        sqlite: include_str!("../migrations/sqlite/0005_ci_variables.sql"),
        postgres: include_str!("../migrations/postgres/0005_ci_variables.sql"),
    },
    Migration {
        version: 6,
        sqlite: include_str!("../migrations/sqlite/0006_ci_artifacts.sql"),
        postgres: include_str!("../migrations/postgres/0006_ci_artifacts.sql"),
    },
    Migration {
        version: 7,
        sqlite: include_str!("../migrations/sqlite/0007_ci_schedules_triggers.sql"),
        postgres: include_str!("../migrations/postgres/0007_ci_schedules_triggers.sql"),
    },
    Migration {
        version: 8,
        sqlite: include_str!("../migrations/sqlite/0008_ci_commit_statuses.sql"),
        postgres: include_str!("../migrations/postgres/0008_ci_commit_statuses.sql"),
    },
    Migration {
        version: 9,
        sqlite: include_str!("../migrations/sqlite/0009_ci_trace_archive.sql"),
        postgres: include_str!("../migrations/postgres/0009_ci_trace_archive.sql"),
    },
    Migration {
        version: 10,
        sqlite: include_str!("../migrations/sqlite/0010_ci_schedule_link.sql"),
        postgres: include_str!("../migrations/postgres/0010_ci_schedule_link.sql"),
    },
    Migration {
        version: 11,
        sqlite: include_str!("../migrations/sqlite/0011_ci_test_counts.sql"),
        postgres: include_str!("../migrations/postgres/0011_ci_test_counts.sql"),
    },
    Migration {
        version: 12,
        sqlite: include_str!("../migrations/sqlite/0012_ci_pipeline_variables_role.sql"),
        postgres: include_str!("../migrations/postgres/0012_ci_pipeline_variables_role.sql"),
    },
    Migration {
        version: 13,
        sqlite: include_str!("../migrations/sqlite/0013_protected_tags.sql"),
        postgres: include_str!("../migrations/postgres/0013_protected_tags.sql"),
    },
    Migration {
        version: 14,
        sqlite: include_str!("../migrations/sqlite/0014_background_jobs.sql"),
        postgres: include_str!("../migrations/postgres/0014_background_jobs.sql"),
    },
    Migration {
        version: 15,
        sqlite: include_str!("../migrations/sqlite/0015_ci_trace_held.sql"),
        postgres: include_str!("../migrations/postgres/0015_ci_trace_held.sql"),
    },
    Migration {
        version: 16,
        sqlite: include_str!("../migrations/sqlite/0016_hidden_variables.sql"),
        postgres: include_str!("../migrations/postgres/0016_hidden_variables.sql"),
    },
    Migration {
        version: 17,
        sqlite: include_str!("../migrations/sqlite/0017_topics.sql"),
        postgres: include_str!("../migrations/postgres/0017_topics.sql"),
    },
    Migration {
        version: 18,
        sqlite: include_str!("../migrations/sqlite/0018_deploy_keys_tokens.sql"),
        postgres: include_str!("../migrations/postgres/0018_deploy_keys_tokens.sql"),
    },
    Migration {
        version: 19,
        sqlite: include_str!("../migrations/sqlite/0019_user_profiles.sql"),
        postgres: include_str!("../migrations/postgres/0019_user_profiles.sql"),
    },
    Migration {
        version: 20,
        sqlite: include_str!("../migrations/sqlite/0020_group_sharing.sql"),
        postgres: include_str!("../migrations/postgres/0020_group_sharing.sql"),
    },
    Migration {
        version: 22,
        sqlite: include_str!("../migrations/sqlite/0022_job_token_scope.sql"),
        postgres: include_str!("../migrations/postgres/0022_job_token_scope.sql"),
    },
    Migration {
        version: 23,
        sqlite: include_str!("../migrations/sqlite/0023_projects_limit.sql"),
        postgres: include_str!("../migrations/postgres/0023_projects_limit.sql"),
    },
    Migration {
        version: 24,
        sqlite: include_str!("../migrations/sqlite/0024_resource_access_tokens.sql"),
        postgres: include_str!("../migrations/postgres/0024_resource_access_tokens.sql"),
    },
    Migration {
        version: 25,
        sqlite: include_str!("../migrations/sqlite/0025_ci_bridges.sql"),
        postgres: include_str!("../migrations/postgres/0025_ci_bridges.sql"),
    },
    Migration {
        version: 26,
        sqlite: include_str!("../migrations/sqlite/0026_ci_catalog.sql"),
        postgres: include_str!("../migrations/postgres/0026_ci_catalog.sql"),
    },
    Migration {
        version: 27,
        sqlite: include_str!("../migrations/sqlite/0027_ci_signing_keys.sql"),
        postgres: include_str!("../migrations/postgres/0027_ci_signing_keys.sql"),
    },
    Migration {
        version: 28,
        sqlite: include_str!("../migrations/sqlite/0028_ci_schedule_inputs.sql"),
        postgres: include_str!("../migrations/postgres/0028_ci_schedule_inputs.sql"),
    },
    Migration {
        version: 29,
        sqlite: include_str!("../migrations/sqlite/0029_internal_ids.sql"),
        postgres: include_str!("../migrations/postgres/0029_internal_ids.sql"),
    },
    Migration {
        version: 30,
        sqlite: include_str!("../migrations/sqlite/0030_issues.sql"),
        postgres: include_str!("../migrations/postgres/0030_issues.sql"),
    },
    Migration {
        version: 31,
        sqlite: include_str!("../migrations/sqlite/0031_todos_notifications_time.sql"),
        postgres: include_str!("../migrations/postgres/0031_todos_notifications_time.sql"),
    },
    Migration {
        version: 32,
        sqlite: include_str!("../migrations/sqlite/0032_milestones.sql"),
        postgres: include_str!("../migrations/postgres/0032_milestones.sql"),
    },
    Migration {
        version: 33,
        sqlite: include_str!("../migrations/sqlite/0033_boards.sql"),
        postgres: include_str!("../migrations/postgres/0033_boards.sql"),
    },
    Migration {
        version: 34,
        sqlite: include_str!("../migrations/sqlite/0034_resource_events.sql"),
        postgres: include_str!("../migrations/postgres/0034_resource_events.sql"),
    },
    Migration {
        version: 35,
        sqlite: include_str!("../migrations/sqlite/0035_award_emoji.sql"),
        postgres: include_str!("../migrations/postgres/0035_award_emoji.sql"),
    },
    Migration {
        version: 36,
        sqlite: include_str!("../migrations/sqlite/0036_issue_links.sql"),
        postgres: include_str!("../migrations/postgres/0036_issue_links.sql"),
    },
    Migration {
        version: 37,
        sqlite: include_str!("../migrations/sqlite/0037_discussions.sql"),
        postgres: include_str!("../migrations/postgres/0037_discussions.sql"),
    },
    Migration {
        version: 38,
        sqlite: include_str!("../migrations/sqlite/0038_epics.sql"),
        postgres: include_str!("../migrations/postgres/0038_epics.sql"),
    },
    Migration {
        version: 39,
        sqlite: include_str!("../migrations/sqlite/0039_uploads.sql"),
        postgres: include_str!("../migrations/postgres/0039_uploads.sql"),
    },
    Migration {
        version: 40,
        sqlite: include_str!("../migrations/sqlite/0040_search.sql"),
        postgres: include_str!("../migrations/postgres/0040_search.sql"),
    },
    Migration {
        version: 41,
        sqlite: include_str!("../migrations/sqlite/0041_events.sql"),
        postgres: include_str!("../migrations/postgres/0041_events.sql"),
    },
    Migration {
        version: 42,
        sqlite: include_str!("../migrations/sqlite/0042_plan_at_scale.sql"),
        postgres: include_str!("../migrations/postgres/0042_plan_at_scale.sql"),
    },
    Migration {
        version: 43,
        sqlite: include_str!("../migrations/sqlite/0043_label_priorities_subscriptions.sql"),
        postgres: include_str!("../migrations/postgres/0043_label_priorities_subscriptions.sql"),
    },
    Migration {
        version: 44,
        sqlite: include_str!("../migrations/sqlite/0044_epic_notes.sql"),
        postgres: include_str!("../migrations/postgres/0044_epic_notes.sql"),
    },
    Migration {
        version: 45,
        sqlite: include_str!("../migrations/sqlite/0045_group_wikis.sql"),
        postgres: include_str!("../migrations/postgres/0045_group_wikis.sql"),
    },
    Migration {
        version: 46,
        sqlite: include_str!("../migrations/sqlite/0046_description_versions.sql"),
        postgres: include_str!("../migrations/postgres/0046_description_versions.sql"),
    },
    Migration {
        version: 47,
        sqlite: include_str!("../migrations/sqlite/0047_iterations.sql"),
        postgres: include_str!("../migrations/postgres/0047_iterations.sql"),
    },
    Migration {
        version: 48,
        sqlite: include_str!("../migrations/sqlite/0048_iteration_board_lists.sql"),
        postgres: include_str!("../migrations/postgres/0048_iteration_board_lists.sql"),
    },
    Migration {
        version: 49,
        sqlite: include_str!("../migrations/sqlite/0049_issue_changes.sql"),
        postgres: include_str!("../migrations/postgres/0049_issue_changes.sql"),
    },
    Migration {
        version: 50,
        sqlite: include_str!("../migrations/sqlite/0050_note_versions.sql"),
        postgres: include_str!("../migrations/postgres/0050_note_versions.sql"),
    },
];

impl Db {
    /// Applies the migrations this database has not seen; safe to run from several processes
    /// at once (PostgreSQL takes an advisory lock, SQLite the write lock).
    pub async fn migrate(&self) -> DbResult<()> {
        self.migrate_to(i64::MAX).await
    }

    /// Applies the migrations up to and including `version` (upgrade tests start a database
    /// at an older schema this way).
    pub async fn migrate_to(&self, version: i64) -> DbResult<()> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .execute(self.pool())
        .await?;
        for migration in MIGRATIONS.iter().filter(|migration| migration.version <= version) {
            let mut tx = self.begin().await?;
            if self.backend() == Backend::Postgres {
                sqlx::query("SELECT pg_advisory_xact_lock(7345021)").execute(&mut *tx).await?;
            }
            let applied = sqlx::query("SELECT COUNT(*) AS n FROM schema_migrations WHERE version = $1")
                .bind(migration.version)
                .fetch_one(&mut *tx)
                .await?
                .try_get::<i64, _>("n")?;
            if applied > 0 {
                continue;
            }
            let sql = match self.backend() {
                Backend::Sqlite => migration.sqlite,
                Backend::Postgres => migration.postgres,
            };
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                .bind(migration.version)
                .bind(now_millis())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            tracing::info!(version = migration.version, "database migration applied");
        }
        Ok(())
    }
}
