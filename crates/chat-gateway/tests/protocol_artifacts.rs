//! The artifacts generated from the wire vocabulary (`chat-protocol`) stay current and valid:
//!
//! - `web/protocol.d.ts`, the TypeScript declarations of every payload, equals what the Rust
//!   types generate now (`UPDATE_PROTOCOL_TYPES=1` rewrites it instead);
//! - the AsyncAPI document served at `/asyncapi.json` passes `asyncapi validate` (npm
//!   `@asyncapi/cli`, pinned in `tests/asyncapi/`), warnings included;
//! - the web client's JSDoc types, which import `protocol.d.ts`, pass `tsc -p web` (npm
//!   `typescript`, pinned in `tests/typescript/`).
//!
//! Node.js 20+ and npm must be installed. The two npm folders are installed with `npm ci
//! --ignore-scripts` outside the clone, under `$CARGO_TARGET_TMPDIR` (`target/tmp/`), and only
//! again when their committed `package-lock.json` changes: the AsyncAPI CLI is ~440 MB and takes
//! minutes to install, so a persistent target directory (CI's) pays it once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    fs::{self, File},
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Output},
    time::Instant,
};

/// The command that rewrites `web/protocol.d.ts`.
const REGENERATE: &str =
    "UPDATE_PROTOCOL_TYPES=1 cargo test -p chat-gateway --test protocol_artifacts";

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn typescript_declarations_match_the_rust_types() {
    let path = crate_dir().join("web/protocol.d.ts");
    let generated = chat_protocol::typescript::declarations();
    if std::env::var_os("UPDATE_PROTOCOL_TYPES").is_some_and(|v| v == "1") {
        assert!(
            std::env::var_os("CI").is_none(),
            "UPDATE_PROTOCOL_TYPES=1 under CI: CI checks the committed file, it never rewrites it"
        );
        // Through a sibling file: the tsc test of this binary may be reading it.
        let fresh = path.with_extension("ts.new");
        fs::write(&fresh, &generated).unwrap();
        fs::rename(&fresh, &path).unwrap();
        say(&format!(
            "UPDATE_PROTOCOL_TYPES=1: wrote {} from the Rust types",
            path.display()
        ));
        return;
    }
    let committed = fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        panic!(
            "{} is not what the Rust types of chat-protocol generate ({}); regenerate it with\n\n    \
             {REGENERATE}\n\nand commit it (then fix what `tsc` says about the web client)",
            path.display(),
            first_difference(&committed, &generated),
        );
    }
}

/// Where two texts first differ, by line.
fn first_difference(committed: &str, generated: &str) -> String {
    let mut committed_lines = committed.lines();
    let mut generated_lines = generated.lines();
    for line in 1.. {
        match (committed_lines.next(), generated_lines.next()) {
            (Some(a), Some(b)) if a == b => {}
            (None, None) => break,
            (a, b) => {
                return format!(
                    "first difference at line {line}: committed {:?}, generated {:?}",
                    a.unwrap_or("<end of file>"),
                    b.unwrap_or("<end of file>"),
                );
            }
        }
    }
    "they differ in line endings or a final newline".to_owned()
}

#[test]
fn asyncapi_document_passes_the_asyncapi_cli() {
    let tools = install("asyncapi", "asyncapi-cli");
    // The CLI sends usage metrics unless its analytics file says no (this network is closed);
    // `ASYNCAPI_METRICS_CONFIG_PATH` keeps that file out of the home directory.
    let analytics = tools.join("analytics.json");
    fs::write(
        &analytics,
        r#"{"analyticsEnabled":"false","infoMessageShown":"true","userID":"chat-gateway-tests"}"#,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("asyncapi.json");
    fs::write(&file, format!("{:#}", chat_protocol::asyncapi::document())).unwrap();

    let started = Instant::now();
    let output = run(Command::new(tools.join("node_modules/.bin/asyncapi"))
        .arg("validate")
        .arg(&file)
        // Diagnostics of severity warning and up fail (exit code 1); information and hints do not.
        .args(["--fail-severity", "warn", "--diagnostics-format", "stylish"])
        .env("ASYNCAPI_METRICS_CONFIG_PATH", &analytics)
        // node-config (inside the CLI) warns that the CLI has no config directory of its own for
        // NODE_ENV=production: about the CLI, not the document. Node's own warnings likewise.
        .env("SUPPRESS_NO_CONFIG_WARNING", "1")
        .env("SUPPRESS_STRICTNESS_CHECK", "1")
        .env("NODE_NO_WARNINGS", "1"));
    eprintln!("asyncapi validate took {:.1?}", started.elapsed());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}{stderr}");
    // Anything on stderr is a failure or a warning; a valid document is said so on stdout.
    assert!(
        output.status.success() && stderr.trim().is_empty() && stdout.contains("is valid"),
        "the AsyncAPI document (chat_protocol::asyncapi::document()) does not pass `asyncapi \
         validate --fail-severity warn` (see above)"
    );
}

#[test]
fn web_client_type_checks_against_the_declarations() {
    let tools = install("typescript", "typescript");
    let started = Instant::now();
    let output = run(Command::new(tools.join("node_modules/.bin/tsc"))
        .arg("-p")
        .arg(crate_dir().join("web"))
        .arg("--pretty")
        .arg("false"));
    eprintln!("tsc -p web took {:.1?}", started.elapsed());
    assert!(
        output.status.success(),
        "tsc finds type errors in the web client (web/app.js against web/protocol.d.ts; a \
         changed payload may need a change there, or `{REGENERATE}`):\n{}",
        printed(&output)
    );
}

/// Installs the npm packages pinned in `tests/{folder}` into `$CARGO_TARGET_TMPDIR/{into}`,
/// unless the same `package.json` and `package-lock.json` are installed there already.
fn install(folder: &str, into: &str) -> PathBuf {
    let pinned = crate_dir().join("tests").join(folder);
    let manifest = fs::read(pinned.join("package.json")).unwrap();
    let lock = fs::read(pinned.join("package-lock.json")).unwrap();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(into);
    fs::create_dir_all(&dir).unwrap();
    // One install at a time per folder, across test processes sharing the target directory.
    let guard = File::create(dir.with_extension("lock")).unwrap();
    guard.lock().unwrap();
    // Written after a successful `npm ci` only.
    let installed = dir.join("installed-package-lock.json");
    if fs::read(&installed).ok().as_ref() == Some(&lock)
        && fs::read(dir.join("package.json")).ok().as_ref() == Some(&manifest)
    {
        return dir;
    }
    let _ = fs::remove_file(&installed);
    fs::write(dir.join("package.json"), &manifest).unwrap();
    fs::write(dir.join("package-lock.json"), &lock).unwrap();
    say(&format!(
        "installing tests/{folder}/package-lock.json into {} (once per change of it)",
        dir.display()
    ));
    let started = Instant::now();
    // No install scripts: the AsyncAPI CLI's would append shell completion to ~/.bashrc, and a
    // dependency's would report the install to a metrics service.
    let output = run(Command::new("npm")
        .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
        .args(["--loglevel=error"])
        .current_dir(&dir));
    assert!(
        output.status.success(),
        "npm ci of tests/{folder} into {} failed:\n{}",
        dir.display(),
        printed(&output)
    );
    fs::write(&installed, &lock).unwrap();
    say(&format!(
        "installed tests/{folder} in {:.1?}",
        started.elapsed()
    ));
    dir
}

/// Prints a line even while the test harness captures the output of passing tests (it captures
/// `print!` and `eprint!`, not writes to the stream).
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Runs `command`, which must be there: Node.js 20+ and npm are needed (the black-box suite
/// needs them too).
fn run(command: &mut Command) -> Output {
    command.output().unwrap_or_else(|error| {
        panic!(
            "could not run {:?} ({error}): these checks need Node.js 20+ and npm",
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
