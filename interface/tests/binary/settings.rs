#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The settings as a user meets them: a completion script for the shell, and a settings
//! file or flag value that does not parse stopping `serve` with the setting's name.

use tests::{run, text};

use super::serve_refused;

const BINARY: &str = env!("CARGO_BIN_EXE_domainflow");

#[test]
fn completions_cover_the_subcommands_and_their_flags() {
    let output = run(BINARY, &["completions", "bash"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let script = text(&output.stdout);
    for word in [
        "_domainflow",
        "serve",
        "dead-letters",
        "--log-format",
        "--owner-url",
    ] {
        assert!(script.contains(word), "no {word} in the bash completions");
    }
    let refused = run(BINARY, &["completions", "cmd.exe"]);
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("cmd.exe"));
}

#[tokio::test]
async fn a_setting_that_does_not_parse_is_named() {
    let dir = std::env::temp_dir().join(format!("df-settings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (line, named) in [
        (
            "payment_timeout = \"soon\"",
            "payment_timeout in the settings file",
        ),
        (
            "max_fulfilment_lag = \"never\"",
            "max_fulfilment_lag in the settings file",
        ),
        ("log_format = \"loud\"", "log_format"),
        ("no_such_setting = 1", "no_such_setting"),
    ] {
        let file = dir.join("settings.toml");
        std::fs::write(&file, line).unwrap();
        let stderr = serve_refused(&["--config", file.to_str().unwrap()]).await;
        assert!(stderr.contains(named), "{line}: {stderr}");
    }
    let stderr = serve_refused(&["--log-format", "loud"]).await;
    assert!(stderr.contains("--log-format"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
