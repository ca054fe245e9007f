//! The settings reference: every setting of `domainflow serve` as a flag, an environment
//! variable and a key of the settings file, with its default and what it does, drawn from
//! the command line's own definition. `domainflow settings` prints it; the README holds the
//! same table, and a test keeps the two equal.

use clap::{Arg, CommandFactory};

use super::{Cli, FileSettings};

/// The Markdown table of every setting `serve` takes (and the global ones).
#[must_use]
pub fn settings_reference() -> String {
    let mut command = Cli::command();
    command.build();
    let mut rows = vec![
        "| Flag | Environment | Settings file | Default | What it does |".to_owned(),
        "|---|---|---|---|---|".to_owned(),
    ];
    let serve = command.find_subcommand("serve").cloned();
    let arguments = serve
        .iter()
        .flat_map(|serve| serve.get_arguments().cloned().collect::<Vec<_>>());
    for argument in arguments {
        if let Some(row) = row(&argument) {
            rows.push(row);
        }
    }
    rows.join("\n") + "\n"
}

/// The row of `argument`, unless it is `--help` or `--version`.
fn row(argument: &Arg) -> Option<String> {
    let long = argument.get_long()?;
    if matches!(long, "help" | "version") {
        return None;
    }
    let help = argument
        .get_help()
        .map(ToString::to_string)
        .unwrap_or_default();
    let (what, default) = match help.split_once(" [default: ") {
        Some((what, default)) => {
            let default = default.trim_end_matches(['.', ' ']);
            let default = default.strip_suffix(']').unwrap_or(default);
            (what.to_owned(), format!("`{default}`"))
        }
        None => (help.clone(), "—".to_owned()),
    };
    let value = argument
        .get_value_names()
        .and_then(|names| names.first())
        .map_or_else(String::new, |name| format!(" {name}"));
    let env = argument.get_env().map_or_else(
        || "—".to_owned(),
        |env| format!("`{}`", env.to_string_lossy()),
    );
    let key = file_key(long).map_or_else(|| "—".to_owned(), |key| format!("`{key}`"));
    Some(format!(
        "| `--{long}{value}` | {env} | {key} | {default} | {} |",
        what.replace('|', "\\|").replace('\n', " ")
    ))
}

/// The settings file's key for flag `--long`, if the file has one: the flag's name with
/// underscores, or with a `database_` prefix (`--owner-url`), as the file accepts it.
fn file_key(long: &str) -> Option<String> {
    let key = long.replace('-', "_");
    [key.clone(), format!("database_{key}")]
        .into_iter()
        .find(|key| accepts(key))
}

/// Whether the settings file knows `key`: a value of the wrong type is refused as such,
/// an unknown key as unknown.
fn accepts(key: &str) -> bool {
    match toml::from_str::<FileSettings>(&format!("{key} = []")) {
        Ok(_) => true,
        Err(error) => !error.to_string().contains("unknown field"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_holds_the_reference() {
        let readme = include_str!("../../../README.md");
        let start = "<!-- settings reference: `domainflow settings` prints it -->\n";
        let begin = readme.find(start).expect("the README's reference marker") + start.len();
        let end = readme[begin..]
            .find("<!-- end of settings reference -->")
            .expect("the README's end marker")
            + begin;
        assert_eq!(
            readme[begin..end].trim(),
            settings_reference().trim(),
            "README.md's settings reference is out of date: paste `domainflow settings` there"
        );
    }

    #[test]
    fn every_row_names_a_flag_and_known_file_keys() {
        let reference = settings_reference();
        assert!(reference.contains("| `--listen ADDR` | `DOMAINFLOW_LISTEN` | `listen` |"));
        assert!(reference.contains("| `--owner-url URL` |"));
        assert!(reference.contains("`database_owner_url`"));
        assert!(!accepts("no_such_setting"));
        assert!(accepts("metrics_token"));
    }
}
