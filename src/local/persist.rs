//! The state file: every change is written to a temporary file, synced, and
//! renamed over the old one, so a crash leaves either the old state or the
//! new one, never half of each. The file holds private keys: mode 0600.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ids::random_alnum;
use super::keys::SigningKey;
use super::state::{ClientState, PoolKey, PoolState, ResourceServerState, State, Unit};
use super::stored_directory::{self, StoredDirectory};
use crate::Algorithm;

const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredState {
    format: u32,
    pools: Vec<StoredPool>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredPool {
    id: String,
    name: String,
    arn: String,
    created: f64,
    modified: f64,
    signing_kid: String,
    keys: Vec<StoredKey>,
    resource_servers: Vec<StoredResourceServer>,
    clients: Vec<StoredClient>,
    /// Users, groups, refresh tokens; absent in files from before users.
    #[serde(default)]
    directory: StoredDirectory,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredKey {
    kid: String,
    alg: String,
    pkcs8: String,
    retire_at: Option<f64>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredResourceServer {
    identifier: String,
    name: String,
    scopes: Vec<StoredScope>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredScope {
    name: String,
    description: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredClient {
    id: String,
    name: String,
    secret: Option<String>,
    flows: Vec<String>,
    scopes: Vec<String>,
    oauth_enabled: bool,
    access_token_validity: Option<u64>,
    access_token_unit: String,
    id_token_unit: String,
    refresh_token_unit: String,
    created: f64,
    modified: f64,
    config: Map<String, Value>,
}

/// Why a state file could not be used.
#[derive(Debug)]
pub struct StateFileError {
    path: PathBuf,
    reason: String,
}

impl StateFileError {
    fn new(path: &Path, reason: impl Into<String>) -> Self {
        StateFileError {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for StateFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "state file {}: {}", self.path.display(), self.reason)
    }
}

impl std::error::Error for StateFileError {}

fn store(state: &State) -> StoredState {
    StoredState {
        format: FORMAT,
        pools: state.pools.values().map(store_pool).collect(),
    }
}

fn store_pool(p: &PoolState) -> StoredPool {
    StoredPool {
        id: p.id.clone(),
        name: p.name.clone(),
        arn: p.arn.clone(),
        created: p.created,
        modified: p.modified,
        signing_kid: p.signing_kid.clone(),
        keys: p
            .keys
            .iter()
            .map(|k| StoredKey {
                kid: k.key.kid().to_string(),
                alg: k.key.algorithm().as_str().to_string(),
                pkcs8: STANDARD.encode(k.key.pkcs8()),
                retire_at: k.retire_at,
            })
            .collect(),
        resource_servers: p
            .resource_servers
            .values()
            .map(|rs| StoredResourceServer {
                identifier: rs.identifier.clone(),
                name: rs.name.clone(),
                scopes: rs
                    .scopes
                    .iter()
                    .map(|(name, description)| StoredScope {
                        name: name.clone(),
                        description: description.clone(),
                    })
                    .collect(),
            })
            .collect(),
        clients: p.clients.values().map(store_client).collect(),
        directory: stored_directory::store(&p.directory),
    }
}

fn store_client(c: &ClientState) -> StoredClient {
    StoredClient {
        id: c.id.clone(),
        name: c.name.clone(),
        secret: c.secret.clone(),
        flows: c.flows.clone(),
        scopes: c.scopes.clone(),
        oauth_enabled: c.oauth_enabled,
        access_token_validity: c.access_token_validity,
        access_token_unit: c.access_token_unit.as_str().into(),
        id_token_unit: c.id_token_unit.as_str().into(),
        refresh_token_unit: c.refresh_token_unit.as_str().into(),
        created: c.created,
        modified: c.modified,
        config: c.config.clone(),
    }
}

fn restore(path: &Path, stored: StoredState) -> Result<State, StateFileError> {
    if stored.format != FORMAT {
        return Err(StateFileError::new(
            path,
            format!(
                "format {} is not supported (expected {FORMAT})",
                stored.format
            ),
        ));
    }
    let mut state = State::default();
    for p in stored.pools {
        let id = p.id.clone();
        let pool = restore_pool(p)
            .map_err(|what| StateFileError::new(path, format!("user pool {id}: {what}")))?;
        state.pools.insert(id, pool);
    }
    Ok(state)
}

/// One pool; an error says what is wrong with it.
fn restore_pool(p: StoredPool) -> Result<PoolState, String> {
    let keys = p
        .keys
        .into_iter()
        .map(restore_key)
        .collect::<Result<Vec<_>, _>>()?;
    if !keys.iter().any(|k| k.key.kid() == p.signing_kid) {
        return Err("the signing key is missing".into());
    }
    let clients = p
        .clients
        .into_iter()
        .map(|c| Ok((c.id.clone(), restore_client(c)?)))
        .collect::<Result<BTreeMap<_, _>, String>>()?;
    let resource_servers = p
        .resource_servers
        .into_iter()
        .map(|rs| (rs.identifier.clone(), restore_resource_server(rs)))
        .collect();
    let directory = stored_directory::restore(p.directory)?;
    Ok(PoolState {
        id: p.id,
        name: p.name,
        arn: p.arn,
        created: p.created,
        modified: p.modified,
        keys,
        signing_kid: p.signing_kid,
        resource_servers,
        clients,
        extra_jwks: Vec::new(),
        directory,
    })
}

fn restore_key(k: StoredKey) -> Result<PoolKey, String> {
    let alg = Algorithm::from_name(&k.alg)
        .ok_or_else(|| format!("key {} has an unknown algorithm", k.kid))?;
    let der = STANDARD
        .decode(&k.pkcs8)
        .map_err(|_| format!("key {} is not base64", k.kid))?;
    let key = SigningKey::from_pkcs8(k.kid.clone(), alg, der)
        .map_err(|e| format!("key {}: {e}", k.kid))?;
    Ok(PoolKey {
        key,
        retire_at: k.retire_at,
    })
}

fn restore_client(c: StoredClient) -> Result<ClientState, String> {
    let unit = |s: &str| Unit::parse(s).ok_or_else(|| format!("unknown token validity unit {s:?}"));
    Ok(ClientState {
        access_token_unit: unit(&c.access_token_unit)?,
        id_token_unit: unit(&c.id_token_unit)?,
        refresh_token_unit: unit(&c.refresh_token_unit)?,
        id: c.id,
        name: c.name,
        secret: c.secret,
        flows: c.flows,
        scopes: c.scopes,
        oauth_enabled: c.oauth_enabled,
        access_token_validity: c.access_token_validity,
        created: c.created,
        modified: c.modified,
        config: c.config,
    })
}

fn restore_resource_server(rs: StoredResourceServer) -> ResourceServerState {
    ResourceServerState {
        identifier: rs.identifier,
        name: rs.name,
        scopes: rs
            .scopes
            .into_iter()
            .map(|s| (s.name, s.description))
            .collect(),
    }
}

/// Reads a state file. A missing file is an empty state; anything else that
/// goes wrong is an error, never a silent reset.
pub(crate) fn load(path: &Path) -> Result<State, StateFileError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(State::default()),
        Err(e) => return Err(StateFileError::new(path, format!("cannot be read: {e}"))),
    };
    let stored: StoredState = serde_json::from_slice(&bytes).map_err(|e| {
        StateFileError::new(path, format!("is not a scopegate issuer state file: {e}"))
    })?;
    restore(path, stored)
}

/// Writes the state atomically: a new temporary file (random name, created
/// exclusively, mode 0600), fsync, rename over the old file, then an fsync
/// of the directory. Once the rename is done the change is saved; a failing
/// directory fsync (some filesystems refuse it) is only logged.
pub(crate) fn save(path: &Path, state: &State) -> io::Result<()> {
    let bytes = serde_json::to_vec_pretty(&store(state)).map_err(io::Error::other)?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", random_alnum(12, false)));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = (|| {
        let mut file = options.open(&tmp)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(fs::Permissions::from_mode(0o600))?;
        }
        file.write_all(&bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    #[cfg(unix)]
    if let Err(e) = fs::File::open(&dir).and_then(|d| d.sync_all()) {
        tracing::warn!(dir = %dir.display(), error = %e, "state saved, but the directory could not be synced");
    }
    Ok(())
}
