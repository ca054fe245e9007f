//! `domainflow verify`: walks the hash chains of the event log.

use application::Actor;
use application::audit::Audit;
use application::event_log::{Integrity, StreamRef};

use std::path::{Path, PathBuf};

use infrastructure::seal::{self, PgSeals, PublicKey, SealKey, SealReport};

use super::database::with_pool;
use super::{DatabaseArgs, FileSettings, SealKeyCommand};

/// Recomputes every link (of one stream, or of all) from the stored content; for the whole
/// log, then checks every seal, with its signature when `public_key` names the key's file.
///
/// # Errors
/// The report of the first broken link or seal, or why the log could not be read.
pub async fn verify(
    stream: Option<String>,
    public_key: Option<PathBuf>,
    database: DatabaseArgs,
    file: FileSettings,
) -> Result<String, String> {
    let stream = stream.as_deref().map(parse_stream).transpose()?;
    let public_key = public_key.as_deref().map(PublicKey::load).transpose()?;
    let (chains, seals) = with_pool(database, file, |pool| async move {
        let chains = Audit::new(crate::app::event_store(&pool))
            .verify(&Actor::console(), stream.as_ref())
            .await
            .map_err(|e| e.to_string())?;
        let seals = match (&chains, &stream) {
            (Integrity::Verified { .. }, None) => Some(
                PgSeals::new(pool.clone())
                    .verify(public_key.as_ref())
                    .await
                    .map_err(|e| e.to_string())?,
            ),
            _ => None,
        };
        Ok::<_, String>((chains, seals))
    })
    .await?;
    if let Integrity::Broken(_) = chains {
        return Err(chains.to_string());
    }
    match seals {
        None => Ok(chains.to_string()),
        Some(broken @ SealReport::Broken { .. }) => Err(broken.to_string()),
        Some(seals) => Ok(format!("{chains}\n{seals}")),
    }
}

/// Verifies the export in `path` offline, with the seal key's public half in
/// `public_key` when given.
///
/// # Errors
/// The first broken link or seal (with its line), or why the files could not be read.
pub fn verify_export(path: &Path, public_key: Option<&Path>) -> Result<String, String> {
    let public_key = public_key.map(PublicKey::load).transpose()?;
    let file = std::fs::File::open(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    match seal::verify_export(std::io::BufReader::new(file), public_key.as_ref())? {
        broken @ seal::ExportReport::Broken { .. } => Err(format!("{}: {broken}", path.display())),
        verified => Ok(verified.to_string()),
    }
}

/// `seal-key generate FILE` and `seal-key public FILE`: the public half, printed.
///
/// # Errors
/// Why the key could not be made or read.
pub fn seal_key(command: SealKeyCommand) -> Result<String, String> {
    let key = match command {
        SealKeyCommand::Generate { file } => SealKey::generate(&file)?,
        SealKeyCommand::Public { file } => SealKey::load(&file)?,
    };
    Ok(key.public().hex())
}

/// `TYPE/ID`, e.g. `stock/MUG-1`.
pub(super) fn parse_stream(text: &str) -> Result<StreamRef, String> {
    match text.split_once('/') {
        Some((stream_type, id)) if !stream_type.is_empty() && !id.is_empty() => {
            Ok(StreamRef::new(stream_type, id))
        }
        _ => Err(format!(
            "--stream {text:?} is not TYPE/ID, e.g. stock/MUG-1"
        )),
    }
}
