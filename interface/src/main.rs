//! `domainflow`: the server and its operator commands.

use clap::Parser;
use interface::cli::{Cli, Command, FileSettings};

/// The server allocates and frees many small, short-lived buffers (decoded events, JSON
/// documents, rows); glibc's allocator spent about a quarter of the server's CPU on them
/// (BENCHMARKS.md, "Where an order's CPU went").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let outcome = run(cli).await;
    // The exporter's last batch goes out on its own thread; wait for it off the runtime.
    let _ = tokio::task::spawn_blocking(interface::cli::flush_traces).await;
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            #[allow(clippy::print_stderr)] // The reason a command failed is its output.
            {
                eprintln!("domainflow: {message}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}

#[allow(clippy::print_stdout)] // Tokens and the schema are printed for the user.
async fn run(cli: Cli) -> Result<(), String> {
    let file = FileSettings::load(cli.config.as_deref())?;
    interface::cli::init_logging(&cli, &file)?;
    match cli.command {
        Command::Serve(args) => interface::cli::serve(*args, file).await,
        Command::Worker(args) => interface::cli::worker(*args, file).await,
        Command::Relay(args) => interface::cli::relay(*args, file).await,
        Command::Migrate(args) => {
            let database = interface::cli::open(args, file).await?;
            println!("migrations applied");
            database.close().await;
            Ok(())
        }
        Command::Token(args) => {
            println!("{}", interface::cli::token(args, &file)?);
            Ok(())
        }
        Command::Verify {
            export: Some(export),
            public_key,
            expect_seal,
            ..
        } => {
            println!(
                "{}",
                interface::cli::verify_export(
                    &export,
                    public_key.as_deref(),
                    expect_seal.as_deref()
                )?
            );
            Ok(())
        }
        Command::Verify {
            stream,
            public_key,
            expect_seal,
            database,
            export: None,
        } => {
            let seals = interface::cli::SealCheck {
                public_key,
                expected: expect_seal,
            };
            println!(
                "{}",
                interface::cli::verify(stream, seals, database, file).await?
            );
            Ok(())
        }
        Command::SealKey(command) => {
            println!("{}", interface::cli::seal_key(command)?);
            Ok(())
        }
        Command::DataKey(command) => {
            println!("{}", interface::cli::data_key_command(command)?);
            Ok(())
        }
        Command::Customers(command) => {
            println!("{}", interface::cli::customers(command, file).await?);
            Ok(())
        }
        Command::ApiKey(command) => {
            println!("{}", interface::cli::api_key(command, file).await?);
            Ok(())
        }
        Command::Events(interface::cli::EventsCommand::Export {
            since,
            stream,
            out,
            database,
        }) => {
            let export = interface::cli::Export { since, stream, out };
            let summary = interface::cli::export(export, database, file).await?;
            // stdout may be the export itself.
            #[allow(clippy::print_stderr)]
            {
                eprintln!("{summary}");
            }
            Ok(())
        }
        Command::Projections(command) => {
            println!("{}", interface::cli::projections(command, file).await?);
            Ok(())
        }
        Command::DeadLetters(command) => {
            println!("{}", interface::cli::dead_letters(command, file).await?);
            Ok(())
        }
        Command::Schema => {
            print!("{}", interface::graphql::schema(true).sdl());
            Ok(())
        }
        Command::Openapi => {
            println!("{}", interface::rest::openapi_json());
            Ok(())
        }
        Command::Settings => {
            print!("{}", interface::cli::settings_reference());
            Ok(())
        }
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "domainflow", &mut std::io::stdout());
            Ok(())
        }
    }
}
