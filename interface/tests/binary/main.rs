//! Tests of the `domainflow` binary itself, run as a process: its commands, its settings,
//! and crashes of the server. One test binary rather than one per file.

mod dead_letters_cli;
mod export;
mod jwt_settings;
mod payment_settings;
mod rebuild_cli;
mod saga_crash;
mod verify;
