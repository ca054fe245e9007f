//! `domainflow verify`: walks the hash chains of the event log.

use application::Actor;
use application::audit::Audit;
use application::event_log::{Integrity, StreamRef};

use std::path::{Path, PathBuf};

use infrastructure::seal::{self, Expected, PgSeals, PublicKey, SealKey, SealReport};

use super::database::with_pool;
use super::{DatabaseArgs, FileSettings, SealKeyCommand};

/// Recomputes every link (of one stream, or of all) from the stored content; for the whole
/// log, then checks every seal, with its signature when `public_key` names the key's file.
///
/// # Errors
/// The report of the first broken link or seal, or why the log could not be read.
pub async fn verify(
    stream: Option<String>,
    seals: SealCheck,
    database: DatabaseArgs,
    file: FileSettings,
) -> Result<String, String> {
    let stream = stream.as_deref().map(parse_stream).transpose()?;
    let public_key = seals
        .public_key
        .as_deref()
        .map(PublicKey::load)
        .transpose()?;
    let expected = seals.expected.as_deref().map(Expected::parse).transpose()?;
    let keyed = public_key.is_some();
    let (chains, seals) = with_pool(database, file, |pool| async move {
        let chains = Audit::new(crate::app::event_store(&pool))
            .verify(&Actor::console(), stream.as_ref())
            .await
            .map_err(|e| e.to_string())?;
        let seals = match (&chains, &stream) {
            (Integrity::Verified { .. }, None) => Some(
                PgSeals::new(pool.clone())
                    .verify(public_key.as_ref(), expected.as_ref())
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
        // With the key, a sealed log is expected: no seal at all is every seal deleted.
        Some(SealReport::Unsealed { events }) if keyed => Err(format!(
            "no seal in the log ({events} events): with --public-key at least one is expected"
        )),
        Some(seals) => Ok(format!("{chains}\n{seals}")),
    }
}

/// How `verify` checks the seals.
#[derive(Debug, Clone, Default)]
pub struct SealCheck {
    /// The file holding the seal key's public half.
    pub public_key: Option<PathBuf>,
    /// `N:DIGEST` of a seal kept from an earlier check.
    pub expected: Option<String>,
}

/// Verifies the export in `path` offline, with the seal key's public half in
/// `public_key` when given.
///
/// # Errors
/// The first broken link or seal (with its line), or why the files could not be read.
pub fn verify_export(
    path: &Path,
    public_key: Option<&Path>,
    expected: Option<&str>,
) -> Result<String, String> {
    let public_key = public_key.map(PublicKey::load).transpose()?;
    let expected = expected.map(Expected::parse).transpose()?;
    let file = std::fs::File::open(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let lines = std::io::BufReader::new(file);
    match seal::verify_export(lines, public_key.as_ref(), expected.as_ref())? {
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
