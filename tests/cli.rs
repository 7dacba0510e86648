//! The `scopegate` command, run as the built binary: help and version from
//! clap, usage mistakes with status 2, configuration mistakes with status 1,
//! each as one clear line, and `SCOPEGATE_*` environment variables for flags.

#![allow(clippy::unwrap_used)] // tests state their expectations with unwrap

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary with `args`, and no `SCOPEGATE_*` variable from outside.
fn scopegate(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_scopegate"));
    command.args(args);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SCOPEGATE_") {
            command.env_remove(name);
        }
    }
    command
}

/// Runs the command to its end: at most 10 s, so a check that regresses
/// (an issuer that starts instead of refusing its flags) fails, never hangs.
fn run(command: &mut Command) -> (Option<i32>, String, String) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(10) {
            child.kill().unwrap();
            let _ = child.wait();
            return (
                None,
                String::new(),
                format!("{command:?} did not exit within 10 s"),
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    (
        status.code(),
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    )
}

/// A file in a directory of its own for this test process.
fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scopegate-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A proxy configuration whose only mistake is on line 3.
const BAD_CONFIG: &str = r#"listen = "127.0.0.1:0"
upstream = "http://127.0.0.1:1"
max_connections = 0

[issuer]
url = "http://127.0.0.1:1/pool"
client_ids = ["c"]

[[routes]]
path = "/x"
"#;

#[test]
fn help_for_the_command_and_each_subcommand() {
    for (args, needles) in [
        (
            &["--help"][..],
            &["Usage: scopegate <COMMAND>", "proxy", "issuer"][..],
        ),
        (&["help"][..], &["Usage: scopegate <COMMAND>"][..]),
        (
            &["proxy", "--help"][..],
            &["Usage: scopegate proxy --config <FILE>", "SCOPEGATE_CONFIG"][..],
        ),
        (
            &["issuer", "--help"][..],
            &[
                "Usage: scopegate issuer [OPTIONS]",
                "--listen <ADDR>",
                "--state <FILE>",
                "--region <REGION>",
                "SCOPEGATE_LISTEN",
                "SCOPEGATE_STATE",
                "SCOPEGATE_REGION",
                "127.0.0.1:9229",
            ][..],
        ),
    ] {
        let (code, stdout, stderr) = run(&mut scopegate(args));
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        for needle in needles {
            assert!(
                stdout.contains(needle),
                "{args:?}: {needle} not in\n{stdout}"
            );
        }
    }
}

#[test]
fn version_is_the_crate_version() {
    let (code, stdout, _) = run(&mut scopegate(&["--version"]));
    assert_eq!(code, Some(0));
    assert_eq!(stdout, format!("scopegate {}\n", env!("CARGO_PKG_VERSION")));
}

/// Each usage mistake exits 2 with one
/// `error:` line naming what is wrong (clap's format: a missing argument is
/// listed below it), usage, and a pointer to `--help`; no
/// arguments at all prints the help to stderr, also with status 2.
#[test]
fn the_command_refuses_bad_flags_in_one_line() {
    for (args, needle) in [
        (&["issuer", "--listen", "nowhere"][..], "--listen"),
        (&["issuer", "--bogus"][..], "--bogus"),
        (&["issuer", "--state"][..], "--state"),
        (
            &["issuer", "--listen", "127.0.0.1:0", "--state", ""][..],
            "--state",
        ),
        (
            &["issuer", "--listen", "127.0.0.1:0", "--region", "US EAST"][..],
            "--region",
        ),
        (
            &["issuer", "--listen", "127.0.0.1:0", "--allowed-host", "a:1"][..],
            "--allowed-host",
        ),
        (&["proxy"][..], "--config"),
        (&["proxy", "--config", "a.toml", "extra"][..], "extra"),
        (&["frobnicate"][..], "frobnicate"),
    ] {
        let (code, _, stderr) = run(&mut scopegate(args));
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "{args:?}: {stderr}");
        // clap lists missing arguments on the lines after `error:`.
        let what = stderr.split("Usage:").next().unwrap_or("");
        assert!(
            stderr.starts_with("error:") && what.contains(needle),
            "{args:?}: {stderr}"
        );
        assert!(stderr.contains("--help"), "{args:?}: {stderr}");
    }
    let (code, stdout, stderr) = run(&mut scopegate(&[]));
    assert_eq!(code, Some(2));
    assert!(
        stdout.is_empty() && stderr.contains("Usage: scopegate <COMMAND>"),
        "{stderr}"
    );
}

#[test]
fn a_bad_config_exits_1_with_one_line_naming_file_line_and_key() {
    let bad = temp_file("bad.toml", BAD_CONFIG);
    let missing = bad.with_file_name("missing.toml");
    for (path, expected) in [
        (&bad, format!("{}:3: max_connections: ", bad.display())),
        (&missing, format!("{}: cannot be read: ", missing.display())),
    ] {
        let (code, _, stderr) = run(scopegate(&["proxy", "--config"]).arg(path));
        assert_eq!(code, Some(1), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with(&format!("scopegate proxy: {expected}"))
                && !stderr.contains("panicked"),
            "{stderr}"
        );
    }
}

#[test]
fn a_corrupt_state_file_exits_1_with_one_line() {
    let state = temp_file("corrupt-state.json", "{not json");
    let (code, _, stderr) = run(scopegate(&["issuer", "--listen", "127.0.0.1:0", "--state"])
        .arg(&state)
        .env("RUST_LOG", "off"));
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("scopegate issuer: ")
            && stderr.contains(&state.display().to_string())
            && !stderr.contains("panicked"),
        "{stderr}"
    );
}

#[test]
fn environment_variables_set_flags() {
    // SCOPEGATE_CONFIG stands for --config.
    let bad = temp_file("env.toml", BAD_CONFIG);
    let (code, _, stderr) = run(scopegate(&["proxy"]).env("SCOPEGATE_CONFIG", &bad));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.starts_with(&format!("scopegate proxy: {}:3: ", bad.display())),
        "{stderr}"
    );
    // A flag wins over its variable.
    let (code, _, stderr) = run(scopegate(&["proxy", "--config"])
        .arg(bad.with_file_name("flag.toml"))
        .env("SCOPEGATE_CONFIG", &bad));
    assert_eq!(code, Some(1));
    assert!(stderr.contains("flag.toml: cannot be read"), "{stderr}");
    // The issuer's variables are checked like their flags.
    for (args, name, value, flag) in [
        (&["issuer"][..], "SCOPEGATE_LISTEN", "nowhere", "--listen"),
        (
            &["issuer", "--listen", "127.0.0.1:0"][..],
            "SCOPEGATE_REGION",
            "US EAST",
            "--region",
        ),
    ] {
        let (code, _, stderr) = run(scopegate(args).env(name, value));
        assert_eq!(code, Some(2), "{name}: {stderr}");
        assert!(stderr.lines().next().unwrap().contains(flag), "{stderr}");
    }
    // SCOPEGATE_STATE stands for --state.
    let state = temp_file("env-state.json", "{not json");
    let (code, _, stderr) = run(scopegate(&["issuer", "--listen", "127.0.0.1:0"])
        .env("SCOPEGATE_STATE", &state)
        .env("RUST_LOG", "off"));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains(&state.display().to_string()), "{stderr}");
}

/// Starts `scopegate issuer --listen addr`, waits for its banner's console
/// line, stops it; returns the console line and everything on stderr.
fn issuer_banner(addr: &str) -> (String, String) {
    use std::io::{BufRead, BufReader, Read};
    let mut child = scopegate(&["issuer", "--listen", addr])
        .env("RUST_LOG", "off")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.trim_start().starts_with("console") {
                let _ = send.send(line);
                return;
            }
        }
    });
    let console = receive.recv_timeout(Duration::from_secs(10));
    child.kill().unwrap();
    let _ = child.wait();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (console.expect("the banner names the console"), stderr)
}

#[test]
fn the_issuer_names_its_console_and_warns_off_loopback() {
    let (console, stderr) = issuer_banner("127.0.0.1:0");
    assert!(
        console.contains("http://127.0.0.1:") && console.ends_with("/console"),
        "{console}"
    );
    assert!(!stderr.contains("warning"), "{stderr}");
    let (console, stderr) = issuer_banner("0.0.0.0:0");
    // A URL a browser opens, not 0.0.0.0.
    assert!(console.contains("http://127.0.0.1:"), "{console}");
    let warning = stderr
        .lines()
        .find(|l| l.starts_with("warning:"))
        .unwrap_or_default();
    assert!(warning.contains("not a loopback address"), "{stderr}");
    assert!(warning.contains("no authentication"), "{stderr}");
}
