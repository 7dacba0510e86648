//! The `scopegate` command: `scopegate issuer` runs the local,
//! Cognito-compatible issuer; `scopegate proxy` runs the layer as a reverse
//! proxy in front of an HTTP upstream.
//!
//! Arguments are parsed by clap: usage mistakes exit with status 2,
//! configuration mistakes (a bad config file, a corrupt state file) with 1,
//! each as one line. Every flag can also be set by a `SCOPEGATE_*`
//! environment variable.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use scopegate::local::LocalIssuer;
use scopegate::proxy::{LogFormat, Proxy, ProxyConfig, ProxyHandle};
use scopegate::shared::{RedisOptions, RedisStore};
use tracing_subscriber::EnvFilter;

/// OAuth 2.0 access tokens and scopes, checked in front of your API.
#[derive(Debug, Parser)]
#[command(name = "scopegate", version, arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verify access tokens and route scopes in front of an HTTP upstream
    Proxy(ProxyArgs),
    /// A local, Cognito-compatible authorization server (development only)
    Issuer(IssuerArgs),
}

#[derive(Debug, Args)]
struct ProxyArgs {
    /// The proxy's TOML configuration (see the README)
    #[arg(long, value_name = "FILE", env = "SCOPEGATE_CONFIG", value_parser = file_name)]
    config: PathBuf,
}

#[derive(Debug, Args)]
struct IssuerArgs {
    /// Where to listen
    #[arg(
        long,
        value_name = "ADDR",
        env = "SCOPEGATE_LISTEN",
        default_value = "127.0.0.1:9229"
    )]
    listen: SocketAddr,
    /// Keep pools, clients and keys in FILE (default: in memory)
    #[arg(long, value_name = "FILE", env = "SCOPEGATE_STATE", value_parser = file_name)]
    state: Option<PathBuf>,
    /// Region of new user pool ids when a request names none
    #[arg(
        long,
        value_name = "REGION",
        env = "SCOPEGATE_REGION",
        default_value = "us-east-1",
        value_parser = region
    )]
    region: String,
    /// A host name, besides localhost and IP addresses, that browsers and
    /// clients may use to reach the console and the management API (for
    /// example a Docker Compose service name); repeatable
    #[arg(
        long = "allowed-host",
        value_name = "NAME",
        env = "SCOPEGATE_ALLOWED_HOSTS",
        value_delimiter = ',',
        value_parser = host_name
    )]
    allowed_hosts: Vec<String>,
    /// Publish revocations and sign-outs (RevokeToken, /oauth2/revoke,
    /// GlobalSignOut, AdminUserGlobalSignOut) to the Redis at URL, where
    /// verifiers and proxies with the same `[shared]` store see them
    #[arg(long, value_name = "URL", env = "SCOPEGATE_REVOCATIONS_REDIS")]
    revocations_redis: Option<String>,
    /// The key prefix in that Redis (as `[shared] key_prefix`)
    #[arg(
        long,
        value_name = "PREFIX",
        default_value = "scopegate:",
        requires = "revocations_redis"
    )]
    revocations_prefix: String,
}

/// A non-empty file name.
fn file_name(value: &str) -> Result<PathBuf, String> {
    if value.is_empty() {
        return Err("needs a file name".into());
    }
    Ok(PathBuf::from(value))
}

/// A region like `us-east-1`: lower-case letters, digits and `-`.
fn region(value: &str) -> Result<String, String> {
    let valid = !value.is_empty()
        && value.len() <= 32
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if valid {
        Ok(value.to_string())
    } else {
        Err("not a region like us-east-1".into())
    }
}

/// A DNS host name: letters, digits, dots and hyphens, at most 253 bytes.
fn host_name(value: &str) -> Result<String, String> {
    let valid = !value.is_empty()
        && value.len() <= 253
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    if valid {
        Ok(value.to_string())
    } else {
        Err("not a host name like issuer or dev.example.internal".into())
    }
}

/// A command whose configuration has been read and checked.
enum Run {
    Issuer(IssuerArgs),
    Proxy(Box<ProxyConfig>, PathBuf),
}

impl Run {
    /// Reads the proxy's configuration before anything starts: a mistake is
    /// one line naming `file:line: key`.
    fn prepare(command: Command) -> Result<Run, String> {
        match command {
            Command::Issuer(args) => Ok(Run::Issuer(args)),
            Command::Proxy(args) => ProxyConfig::from_file(&args.config)
                .map(|config| Run::Proxy(Box::new(config), args.config))
                .map_err(|e| format!("scopegate proxy: {e}")),
        }
    }

    /// Logs to stderr; the proxy's `log_format` may ask for JSON.
    fn init_logging(&self) {
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
        let logs = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr);
        match self {
            Run::Proxy(config, _) if config.log_format == LogFormat::Json => logs.json().init(),
            _ => logs.init(),
        }
    }

    /// Runs until SIGINT or SIGTERM.
    fn run(self) -> Result<(), String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("scopegate: cannot start the runtime: {e}"))?;
        match self {
            Run::Issuer(args) => runtime
                .block_on(run_issuer(args))
                .map_err(|e| format!("scopegate issuer: {e}")),
            Run::Proxy(config, path) => runtime
                .block_on(run_proxy(*config, path))
                .map_err(|e| format!("scopegate proxy: {e}")),
        }
    }
}

async fn run_proxy(config: ProxyConfig, path: PathBuf) -> Result<(), String> {
    // Listened for before anything starts: an early SIGHUP must not end
    // the process (its default action).
    let hangups = hangups();
    let proxy = Proxy::bind(config).await.map_err(|e| e.to_string())?;
    let reloads = tokio::spawn(reload_on_hangup(hangups, proxy.handle(), path));
    proxy.run(shutdown_signal()).await;
    reloads.abort();
    Ok(())
}

#[cfg(unix)]
type Hangups = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangups = Option<()>;

fn hangups() -> Hangups {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let hangups = signal(SignalKind::hangup()).ok();
        if hangups.is_none() {
            tracing::warn!("cannot listen for SIGHUP: reloads are off");
        }
        hangups
    }
    #[cfg(not(unix))]
    None
}

/// Reloads the configuration file on each SIGHUP, off the request threads
/// (a mistake is logged as one line; the configuration in use keeps
/// serving).
async fn reload_on_hangup(hangups: Hangups, proxy: ProxyHandle, path: PathBuf) {
    #[cfg(unix)]
    if let Some(mut hangups) = hangups {
        while hangups.recv().await.is_some() {
            let (proxy, path) = (proxy.clone(), path.clone());
            // Logged and counted by the proxy.
            let _ = tokio::task::spawn_blocking(move || proxy.reload(&path)).await;
        }
    }
    #[cfg(not(unix))]
    let _ = (hangups, proxy, path);
}

async fn run_issuer(args: IssuerArgs) -> Result<(), String> {
    let mut builder = LocalIssuer::builder()
        .listen(args.listen)
        .region(args.region)
        .allowed_hosts(args.allowed_hosts.iter().cloned())
        .without_default_pool();
    if let Some(path) = &args.state {
        builder = builder.state_file(path);
    }
    if let Some(url) = &args.revocations_redis {
        let options = RedisOptions::default().key_prefix(args.revocations_prefix.clone());
        let store =
            RedisStore::open(url, options).map_err(|e| format!("--revocations-redis {e}"))?;
        builder = builder.publish_revocations(store);
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
    if !args.listen.ip().is_loopback() {
        eprintln!(
            "warning: listening on {}, which is not a loopback address. The issuer has no \
             authentication: anyone who can reach it can change its pools and mint tokens.",
            args.listen
        );
    }
    println!("  console          {}/console", browsable(issuer.addr()));
    println!("  management API   {base}   (aws cognito-idp ... --endpoint-url {base})");
    println!("  token endpoint   {}", issuer.token_endpoint());
    println!(
        "  hosted sign-in   {base}/oauth2/authorize   (and /login, /logout, /oauth2/userInfo, /oauth2/revoke)"
    );
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

/// The issuer's URL as a browser on this machine opens it: an unspecified
/// address (`0.0.0.0`, `::`) becomes loopback.
fn browsable(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::from([127, 0, 0, 1]),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
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
    // Usage mistakes, `--help` and `--version` end here (status 2 or 0).
    let cli = Cli::parse();
    let outcome = Run::prepare(cli.command).and_then(|run| {
        run.init_logging();
        run.run()
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<IssuerArgs, clap::Error> {
        let args = ["scopegate", "issuer"].iter().chain(args);
        match Cli::try_parse_from(args)?.command {
            Command::Issuer(args) => Ok(args),
            Command::Proxy(_) => unreachable!("parsed as `issuer`"),
        }
    }

    #[test]
    fn the_command_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn issuer_flags() {
        let parsed = parse(&[
            "--listen",
            "127.0.0.1:1234",
            "--state=/tmp/s.json",
            "--region",
            "eu-west-1",
            "--allowed-host",
            "issuer",
            "--allowed-host=dev.example.internal",
        ])
        .unwrap();
        assert_eq!(parsed.allowed_hosts, ["issuer", "dev.example.internal"]);
        assert_eq!(parsed.listen.port(), 1234);
        assert_eq!(parsed.state.unwrap(), PathBuf::from("/tmp/s.json"));
        assert_eq!(parsed.region, "eu-west-1");
        let defaults = parse(&[]).unwrap();
        assert_eq!(defaults.listen, SocketAddr::from(([127, 0, 0, 1], 9229)));
        assert!(defaults.state.is_none());
        assert_eq!(defaults.region, "us-east-1");
        assert!(defaults.allowed_hosts.is_empty());
    }

    #[test]
    fn bad_flags_are_usage_errors() {
        for (args, needle) in [
            (&["--listen", "nowhere"][..], "--listen"),
            (&["--listen"][..], "--listen"),
            (&["--state", "--listen"][..], "--state"),
            (&["--state", ""][..], "needs a file name"),
            (&["--region", "US EAST"][..], "--region"),
            (&["--verbose"][..], "--verbose"),
        ] {
            let error = parse(args).err().unwrap();
            assert_eq!(error.exit_code(), 2, "{args:?}");
            let message = error.to_string();
            let first = message.lines().next().unwrap_or("");
            assert!(first.contains(needle), "{args:?}: {message}");
        }
    }
}
