//! `domainflow projections status|rebuild|resume`: every projection's position, lag and
//! state as a table; rebuilding read models (see `rebuild`); un-parking a projection.

use std::future::Future;

use application::Actor;
use application::operations::{Operations, ProjectionStatus};

use crate::error::ApiError;
use crate::payment::ProviderSettings;

use super::database::with_pool;
use super::{DatabaseArgs, FileSettings, ProjectionsCommand};

/// Runs a `projections` subcommand; its output.
///
/// # Errors
/// Why the database could not be opened or read, or the command was refused.
pub async fn projections(
    command: ProjectionsCommand,
    file: FileSettings,
) -> Result<String, String> {
    match command {
        ProjectionsCommand::Status { database } => {
            with_operations(database, file, |operations| async move {
                let statuses = operations.projections(&Actor::console()).await?;
                Ok(table(&statuses))
            })
            .await
        }
        ProjectionsCommand::Rebuild {
            name,
            all: _,
            database,
        } => {
            with_operations(database, file, |operations| async move {
                super::rebuild::rebuild(&operations, name.as_deref()).await
            })
            .await
        }
        ProjectionsCommand::Resume { name, database } => {
            with_operations(database, file, |operations| async move {
                let resumed = operations.resume(&Actor::console(), &name).await?;
                Ok(if resumed {
                    format!("{name} resumed: its worker goes on from its checkpoint")
                } else {
                    format!("{name} was not parked")
                })
            })
            .await
        }
    }
}

/// Runs `work` with the operators' use cases over the database `args` name; a refusal
/// reads as its code and message (`NOT_FOUND: ...`).
async fn with_operations<F, Fut>(
    database: DatabaseArgs,
    file: FileSettings,
    work: F,
) -> Result<String, String>
where
    F: FnOnce(Operations) -> Fut,
    Fut: Future<Output = Result<String, application::Error>>,
{
    with_pool(database, file, |pool| async move {
        let operations = super::dead_letters::operations(
            &pool,
            &ProviderSettings::default(),
            std::sync::Arc::new(application::personal_data::Unprotected),
        )?;
        work(operations)
            .await
            .map_err(|error| format!("{}: {error}", ApiError::from(error.clone()).code()))
    })
    .await
}

/// The statuses as an aligned text table (no trailing newline).
#[must_use]
pub fn table(statuses: &[ProjectionStatus]) -> String {
    let rows: Vec<[String; 6]> = statuses
        .iter()
        .map(|s| {
            [
                s.name.clone(),
                s.position.clone(),
                s.lag_events.to_string(),
                format!("{:.3}", s.lag_seconds),
                s.state.as_str().to_owned(),
                s.error.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    super::table::table(
        [
            "NAME",
            "POSITION",
            "LAG EVENTS",
            "LAG SECONDS",
            "STATE",
            "ERROR",
        ],
        &rows,
        &[2, 3],
    )
}

#[cfg(test)]
mod tests {
    use projections::ProjectionState;

    use super::*;

    #[test]
    fn the_table_has_a_header_and_one_aligned_row_per_projection() {
        let statuses = [
            ProjectionStatus {
                name: "orders".into(),
                position: "0".repeat(32),
                state: ProjectionState::Running,
                error: None,
                lag_events: 12,
                lag_seconds: 0.5,
                rebuild: None,
            },
            ProjectionStatus {
                name: "payments".into(),
                position: "0".repeat(32),
                state: ProjectionState::Parked,
                error: Some("boom".into()),
                lag_events: 3,
                lag_seconds: 2.0,
                rebuild: None,
            },
        ];
        let text = table(&statuses);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("NAME"));
        assert!(lines[1].contains("RUNNING") && lines[1].ends_with('-'));
        assert!(lines[2].contains("PARKED") && lines[2].ends_with("boom"));
        assert_eq!(lines[1].find("RUNNING"), lines[2].find("PARKED"));
    }
}
