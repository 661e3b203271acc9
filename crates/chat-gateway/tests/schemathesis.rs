//! Schemathesis fuzzes the REST API of a running gateway from its own `/openapi.json` and finds
//! no failure: every check (`--checks all`: no server error, status codes, content types,
//! headers and bodies as documented, schema-valid requests accepted and schema-violating ones
//! refused, authentication not ignored, …) over every operation, with a bounded number of
//! examples per operation and a fixed seed, so that a run is repeatable and takes well under a
//! minute once installed.
//!
//! The gateway runs on SQLite with a JWT secret; the requests carry a bearer token of a fresh
//! user. `tests/schemathesis/schemathesis.toml` lists the three rules the schema cannot say (and
//! the document states in words), for which a schema-valid request is `400`.
//!
//! Python 3 (with `venv`) must be installed; Schemathesis, pinned in
//! `tests/schemathesis/requirements.txt`, is installed from PyPI into a virtual environment under
//! `$CARGO_TARGET_TMPDIR` (`target/tmp/`), and again only when that file changes. By hand:
//!
//! ```text
//! schemathesis --config-file crates/chat-gateway/tests/schemathesis/schemathesis.toml \
//!   run http://127.0.0.1:3000/openapi.json -H "Authorization: Bearer $TOKEN" --checks all
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    fs::{self, File},
    io::Write,
    path::{Path, PathBuf},
    process::{Command as StdCommand, Output},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use chat_auth::HsTokenIssuer;
use chat_domain::UserId;
use secrecy::SecretString;
use support::{SECRET, Server};
use tokio::process::Command;

/// Test cases per operation and phase: enough to reach every documented answer, few enough to
/// stay well under a minute.
const MAX_EXAMPLES: &str = "30";
/// Fixed, so that a failure in CI reproduces locally (`--seed` of the same value).
const SEED: &str = "20261202";
/// Beyond this the run has hung: it is killed and the test fails.
const DEADLINE: Duration = Duration::from_secs(240);

fn pinned_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemathesis")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_failure_in_the_rest_api() {
    let schemathesis = tokio::task::spawn_blocking(install).await.unwrap();
    // Quotas high enough that the fuzzing reaches the logic behind them; `429` is documented
    // and still checked wherever it comes.
    let server = Server::sqlite_with(&[
        ("CHAT_RATE_LIMIT_MESSAGE_READ", "100000"),
        ("CHAT_RATE_LIMIT_BLOCK", "100000"),
        ("CHAT_RATE_LIMIT_MUTE", "100000"),
    ])
    .await;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let token = HsTokenIssuer::new(&SecretString::from(SECRET))
        .issue(
            UserId::new(uuid::Uuid::new_v4()),
            Some("Schemathesis"),
            3_600,
            now,
        )
        .unwrap();
    let work = tempfile::tempdir().unwrap();

    let started = Instant::now();
    let mut command = Command::new(&schemathesis);
    command
        .arg("--config-file")
        .arg(pinned_dir().join("schemathesis.toml"))
        .arg("run")
        .arg(format!("{}/openapi.json", server.url()))
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", "all"])
        .args(["--max-examples", MAX_EXAMPLES, "--seed", SEED])
        .args(["--workers", "2", "--request-timeout", "5"])
        // No example database: every run starts from the seed alone.
        .args(["--generation-database", "none"])
        .args(["--no-color", "--output-truncate", "false"])
        .current_dir(work.path())
        .kill_on_drop(true);
    let output = tokio::time::timeout(DEADLINE, command.output())
        .await
        .unwrap_or_else(|_| panic!("schemathesis ran longer than {DEADLINE:?}"))
        .unwrap_or_else(|error| panic!("could not run {}: {error}", schemathesis.display()));
    say(&format!("schemathesis took {:.1?}", started.elapsed()));
    let printed = printed(&output);
    server.stop().await;
    eprintln!("{printed}");
    assert!(
        output.status.success() && printed.contains("No issues found"),
        "Schemathesis found failures (see above; rerun with `--seed {SEED}`)"
    );
}

/// Installs `tests/schemathesis/requirements.txt` into a virtual environment under
/// `$CARGO_TARGET_TMPDIR/schemathesis`, unless that very file is installed there already, and
/// returns the path of its `schemathesis` command.
fn install() -> PathBuf {
    let requirements = fs::read(pinned_dir().join("requirements.txt")).unwrap();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("schemathesis");
    fs::create_dir_all(&dir).unwrap();
    // One install at a time, across test processes sharing the target directory.
    let guard = File::create(dir.with_extension("lock")).unwrap();
    guard.lock().unwrap();
    let venv = dir.join("venv");
    let command = venv.join("bin/schemathesis");
    // Written after a successful install only.
    let installed = dir.join("installed-requirements.txt");
    if fs::read(&installed).ok().as_ref() == Some(&requirements) && command.exists() {
        return command;
    }
    let _ = fs::remove_file(&installed);
    let _ = fs::remove_dir_all(&venv);
    say(&format!(
        "installing tests/schemathesis/requirements.txt into {} (once per change of it)",
        venv.display()
    ));
    let started = Instant::now();
    let created = run(StdCommand::new("python3").arg("-m").arg("venv").arg(&venv));
    assert!(
        created.status.success(),
        "python3 -m venv failed (Python 3 with venv is needed):\n{}",
        printed(&created)
    );
    let pip = run(StdCommand::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .arg("--requirement")
        .arg(pinned_dir().join("requirements.txt")));
    assert!(
        pip.status.success(),
        "pip install of tests/schemathesis/requirements.txt failed:\n{}",
        printed(&pip)
    );
    fs::write(&installed, &requirements).unwrap();
    say(&format!(
        "installed Schemathesis in {:.1?}",
        started.elapsed()
    ));
    command
}

/// Prints a line even while the test harness captures the output of passing tests.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn run(command: &mut StdCommand) -> Output {
    command.output().unwrap_or_else(|error| {
        panic!(
            "could not run {:?} ({error}): this test needs Python 3 with venv",
            command.get_program()
        )
    })
}

/// What a process printed, stdout then stderr.
fn printed(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
