//! The command line: `serve` (default), `migrate`, `token`, `revoke`.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use chat_auth::HsTokenIssuer;
use chat_domain::{
    UserId,
    ports::{Clock as _, UserRepository as _},
};
use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

use crate::{
    app::{self, App},
    config::Settings,
};

/// The chat gateway: Socket.IO and REST for one-to-one chat.
#[derive(Debug, Parser)]
#[command(name = "chat-gateway", version, about)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply migrations, then serve until SIGINT/SIGTERM.
    Serve,
    /// Apply migrations and exit.
    Migrate,
    /// Print an HS256 token signed with the configured secret (development and tests).
    Token {
        /// The user id (`sub`), a UUID.
        #[arg(long)]
        user: String,
        /// The display name (`name`).
        #[arg(long)]
        name: Option<String>,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 86_400)]
        ttl: u64,
    },
    /// Void every token of a user issued up to now (contract section 2): refused from now on
    /// (REST 401, handshake `token_revoked`), and every live socket of the user, on every
    /// node, is disconnected within 5 s. Tokens issued from the next second on work.
    Revoke {
        /// The user id (`sub`), a UUID.
        #[arg(long)]
        user: String,
    },
}

/// Parses the command line; `--help` (of the gateway, `serve` and `migrate`) ends with every
/// variable and its default ([`crate::config::help_text`]). Exits on `--help`, `--version` and
/// bad arguments, as clap does.
#[must_use]
pub fn parse() -> Cli {
    let variables = crate::config::help_text();
    let command = Cli::command()
        .after_help(variables.clone())
        .mut_subcommand("serve", |c| c.after_help(variables.clone()))
        .mut_subcommand("migrate", |c| c.after_help(variables));
    let matches = command.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit())
}

/// Runs the command with validated settings.
///
/// # Errors
/// Whatever stops the command, with the variable or argument at fault named first.
pub async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = App::build(settings).await?;
            app.run_until_stopped(app::shutdown_signal()).await
        }
        Command::Migrate => {
            app::open_database(&settings).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Revoke { user } => {
            let user = UserId::parse(&user).map_err(|_| anyhow::anyhow!("--user: not a UUID"))?;
            let db = app::open_database(&settings).await?;
            let at = chat_memory::SystemClock.now();
            chat_store::SqlUserRepository::new(db)
                .revoke_tokens(user, at)
                .await
                .map_err(|e| anyhow::anyhow!("revoke: {e}"))?;
            tracing::info!(user_id = %user, "tokens revoked");
            #[expect(
                clippy::print_stdout,
                reason = "the revocation point is the command's output"
            )]
            {
                println!("revoked tokens of {user} issued up to {}", at.to_rfc3339());
            }
            Ok(())
        }
        Command::Token { user, name, ttl } => {
            if settings.jwt.public_key_file.is_some() {
                anyhow::bail!(
                    "token: the gateway verifies with a public key; mint tokens with the matching private key instead"
                );
            }
            let user = UserId::parse(&user).map_err(|_| anyhow::anyhow!("--user: not a UUID"))?;
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .context("the clock is before 1970")?
                .as_secs();
            let token = HsTokenIssuer::new(&settings.jwt.secret)
                .issue(user, name.as_deref(), ttl, now)
                .map_err(|e| anyhow::anyhow!("token: {e}"))?;
            #[expect(clippy::print_stdout, reason = "the token is the command's output")]
            {
                println!("{token}");
            }
            Ok(())
        }
    }
}
