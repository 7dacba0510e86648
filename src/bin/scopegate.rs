//! The `scopegate` command: `scopegate issuer` runs the local,
//! Cognito-compatible issuer; `scopegate proxy` runs the layer as a reverse
//! proxy in front of an HTTP upstream.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use scopegate::local::LocalIssuer;
use scopegate::proxy::{LogFormat, Proxy, ProxyConfig};
use tracing_subscriber::EnvFilter;

const USAGE: &str = "\
usage: scopegate issuer [--listen ADDR] [--state FILE] [--region REGION]
       scopegate proxy --config FILE

  proxy    verify access tokens and route scopes in front of an HTTP upstream
           --config FILE    the proxy's TOML configuration (see the README)

  issuer   a local, Cognito-compatible authorization server (development only)
           --listen ADDR    where to listen (default 127.0.0.1:9229)
           --state FILE     keep pools, clients and keys in FILE (default: in memory)
           --region REGION  region of new user pool ids when a request names none
                            (default us-east-1)

  -h, --help       this help
  -V, --version    the version";

/// A usage mistake: one line, exit status 2.
struct Usage(String);

enum Command {
    Issuer(IssuerArgs),
    Proxy(PathBuf),
}

enum Run {
    Issuer(IssuerArgs),
    Proxy(ProxyConfig),
}

fn parse_proxy(mut args: impl Iterator<Item = String>) -> Result<PathBuf, Usage> {
    let mut config = None;
    while let Some(arg) = args.next() {
        let value = match arg.split_once('=') {
            Some(("--config", v)) => v.to_string(),
            _ if arg == "--config" => value(&mut args, "--config")?,
            _ if arg == "-h" || arg == "--help" => return Err(Usage(String::new())),
            _ => {
                return Err(Usage(format!(
                    "unknown option {arg:?} for `scopegate proxy`"
                )));
            }
        };
        if value.is_empty() {
            return Err(Usage("--config needs a file name".into()));
        }
        config = Some(PathBuf::from(value));
    }
    config.ok_or_else(|| Usage("`scopegate proxy` needs --config FILE".into()))
}

async fn run_proxy(config: ProxyConfig) -> Result<(), String> {
    let proxy = Proxy::bind(config).await.map_err(|e| e.to_string())?;
    proxy.run(shutdown_signal()).await;
    Ok(())
}

struct IssuerArgs {
    listen: SocketAddr,
    state: Option<PathBuf>,
    region: String,
}

fn value(args: &mut impl Iterator<Item = String>, flag: &str) -> Result<String, Usage> {
    args.next()
        .filter(|v| !v.starts_with("--"))
        .ok_or_else(|| Usage(format!("{flag} needs a value")))
}

fn parse_issuer(mut args: impl Iterator<Item = String>) -> Result<IssuerArgs, Usage> {
    let mut parsed = IssuerArgs {
        listen: SocketAddr::from(([127, 0, 0, 1], 9229)),
        state: None,
        region: "us-east-1".into(),
    };
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, v)) if flag.starts_with("--") => (flag.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut take = |flag: &str| match &inline {
            Some(v) => Ok(v.clone()),
            None => value(&mut args, flag),
        };
        match flag.as_str() {
            "--listen" => {
                let v = take("--listen")?;
                parsed.listen = v.parse().map_err(|_| {
                    Usage(format!(
                        "--listen {v:?} is not an address like 127.0.0.1:9229"
                    ))
                })?;
            }
            "--state" => {
                let v = take("--state")?;
                if v.is_empty() {
                    return Err(Usage("--state needs a file name".into()));
                }
                parsed.state = Some(PathBuf::from(v));
            }
            "-h" | "--help" => return Err(Usage(String::new())),
            "--region" => {
                let v = take("--region")?;
                if v.is_empty()
                    || v.len() > 32
                    || !v
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                {
                    return Err(Usage(format!(
                        "--region {v:?} is not a region like us-east-1"
                    )));
                }
                parsed.region = v;
            }
            other => {
                return Err(Usage(format!(
                    "unknown option {other:?} for `scopegate issuer`"
                )));
            }
        }
    }
    Ok(parsed)
}

async fn run_issuer(args: IssuerArgs) -> Result<(), String> {
    let mut builder = LocalIssuer::builder()
        .listen(args.listen)
        .region(args.region)
        .without_default_pool();
    if let Some(path) = &args.state {
        builder = builder.state_file(path);
    }
    let issuer = builder.start().await.map_err(|e| e.to_string())?;
    let base = issuer.base_url();
    println!(
        "scopegate issuer {}: a local, Cognito-compatible authorization server",
        env!("CARGO_PKG_VERSION")
    );
    println!(
        "  DEVELOPMENT ONLY: it accepts any AWS signature and has no authentication of its own."
    );
    println!("  management API   {base}   (aws cognito-idp ... --endpoint-url {base})");
    println!("  token endpoint   {}", issuer.token_endpoint());
    println!("  issuer URLs      {base}/{{userPoolId}}   (JWKS and discovery under /.well-known/)");
    println!(
        "  key rotation     curl -X POST '{base}/_local/{{userPoolId}}/rotate-key?grace_seconds=3600'"
    );
    match &args.state {
        Some(path) => println!("  state            {}", path.display()),
        None => println!("  state            in memory (use --state FILE to keep it)"),
    }
    shutdown_signal().await;
    println!("scopegate issuer: shutting down");
    issuer.shutdown();
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

fn main() -> ExitCode {
    // Arguments that are not UTF-8 are refused with a message, not a panic.
    let args: Result<Vec<String>, _> = std::env::args_os()
        .skip(1)
        .map(|a| a.into_string())
        .collect();
    let Ok(args) = args else {
        eprintln!("scopegate: an argument is not valid UTF-8");
        return ExitCode::from(2);
    };
    let mut args = args.into_iter();
    let command = args.next();
    let parsed = match command.as_deref() {
        None => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some("-V" | "--version") => {
            println!("scopegate {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Some("issuer") => parse_issuer(args).map(Command::Issuer),
        Some("proxy") => parse_proxy(args).map(Command::Proxy),
        Some(other) => Err(Usage(format!(
            "unknown command {other:?} (try `scopegate --help`)"
        ))),
    };
    let parsed = match parsed {
        Ok(parsed) => parsed,
        // `--help` after the command.
        Err(Usage(message)) if message.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(Usage(message)) => {
            eprintln!("scopegate: {message}");
            return ExitCode::from(2);
        }
    };
    // The proxy's configuration is read before anything starts, and its log
    // format decides how logging is set up.
    let command = match parsed {
        Command::Issuer(args) => Run::Issuer(args),
        Command::Proxy(path) => match ProxyConfig::from_file(&path) {
            Ok(config) => Run::Proxy(config),
            Err(e) => {
                eprintln!("scopegate proxy: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match &command {
        Run::Proxy(config) if config.log_format == LogFormat::Json => logs.json().init(),
        _ => logs.init(),
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("scopegate: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (name, outcome) = match command {
        Run::Issuer(args) => ("issuer", runtime.block_on(run_issuer(args))),
        Run::Proxy(config) => ("proxy", runtime.block_on(run_proxy(config))),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("scopegate {name}: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<IssuerArgs, String> {
        parse_issuer(args.iter().map(|s| s.to_string())).map_err(|Usage(m)| m)
    }

    #[test]
    fn issuer_flags() {
        let parsed = parse(&[
            "--listen",
            "127.0.0.1:1234",
            "--state=/tmp/s.json",
            "--region",
            "eu-west-1",
        ])
        .unwrap();
        assert_eq!(parsed.listen.port(), 1234);
        assert_eq!(parsed.state.unwrap(), PathBuf::from("/tmp/s.json"));
        assert_eq!(parsed.region, "eu-west-1");
        let defaults = parse(&[]).unwrap();
        assert_eq!(defaults.listen, SocketAddr::from(([127, 0, 0, 1], 9229)));
        assert!(defaults.state.is_none());
    }

    #[test]
    fn bad_flags_are_one_line_errors() {
        for (args, needle) in [
            (&["--listen", "nowhere"][..], "--listen"),
            (&["--listen"][..], "needs a value"),
            (&["--state", "--listen"][..], "needs a value"),
            (&["--region", "US EAST"][..], "--region"),
            (&["--verbose"][..], "unknown option"),
        ] {
            let message = parse(args).err().unwrap();
            assert!(
                message.contains(needle) && !message.contains('\n'),
                "{args:?}: {message}"
            );
        }
    }
}
