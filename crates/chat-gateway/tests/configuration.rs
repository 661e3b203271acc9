//! The binary's configuration as an operator meets it: `--help` lists every variable with its
//! default (from the one table, `chat_gateway::config::VARIABLES`), and a misspelled variable
//! or file key stops start-up with one line naming it, where it used to be ignored (the gateway
//! then started on the embedded SQLite default). The tests' own `CHAT_TEST_*` are left alone.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

use chat_gateway::config::VARIABLES;

/// Runs the binary with `args` and only `env` (and PATH) in its environment.
fn gateway(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chat-gateway"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("the gateway binary runs")
}

/// The one line a refused start-up prints, after checking that it failed (exit code 2).
fn refusal(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    lines[0].to_owned()
}

#[test]
fn help_lists_every_variable_with_its_default() {
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
    ] {
        let output = gateway(args, &[]);
        assert!(output.status.success(), "{args:?}");
        let help = String::from_utf8_lossy(&output.stdout);
        for v in VARIABLES {
            let line = format!("{} [default: {}]", v.name, v.default.unwrap_or("unset"));
            assert!(
                help.contains(&line),
                "{args:?}: {line} missing from\n{help}"
            );
        }
    }
}

#[test]
fn a_misspelled_file_key_stops_start_up_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("chat.toml");
    std::fs::write(&file, "databse_url = \"postgres://127.0.0.1:1/chat\"\n").unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("c.db").display());
    let output = gateway(
        &["serve"],
        &[
            ("CHAT_CONFIG", file.to_str().unwrap()),
            ("CHAT_BIND", "127.0.0.1:0"),
            ("CHAT_DATABASE_URL", &db),
        ],
    );
    let line = refusal(&output);
    assert!(line.contains("CHAT_CONFIG"), "{line}");
    assert!(line.contains("\"databse_url\""), "{line}");
    assert!(line.contains("did you mean database_url?"), "{line}");
    assert!(!dir.path().join("c.db").exists(), "nothing was opened");
}

#[test]
fn a_misspelled_variable_stops_start_up_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("c.db").display());
    let output = gateway(
        &["serve"],
        &[
            ("CHAT_BIND", "127.0.0.1:0"),
            ("CHAT_DATABSE_URL", &db),
            ("CHAT_TEST_DATABASE_URL", "postgres://127.0.0.1:1/test"),
        ],
    );
    let line = refusal(&output);
    assert!(
        line.starts_with("error: CHAT_DATABSE_URL: not a setting"),
        "{line}"
    );
    assert!(line.contains("did you mean CHAT_DATABASE_URL?"), "{line}");
    assert!(!dir.path().join("c.db").exists(), "nothing was opened");
}

#[test]
fn the_tests_and_benchmarks_variables_are_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("c.db").display());
    let output = gateway(
        &["migrate"],
        &[
            ("CHAT_DATABASE_URL", &db),
            ("CHAT_TEST_DATABASE_URL", "postgres://127.0.0.1:1/test"),
            ("CHAT_TEST_REDIS_URL", "redis://127.0.0.1:1"),
            ("CHAT_BENCH_URL", "http://127.0.0.1:1"),
            ("RUST_LOG", "warn"),
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("c.db").exists());
}
