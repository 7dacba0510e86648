//! Reading a JWK Set (RFC 7517) into verification keys.
//!
//! Every key is checked before it is trusted, and a key that fails a check is
//! dropped on its own; the others keep working (one bad key must not break the
//! good ones). A key is kept only if:
//!
//! - it is asymmetric (`RSA`, `EC` P-256/P-384, `OKP` Ed25519); `oct` keys and
//!   anything else are dropped (RFC 8725 §3.1: no symmetric keys);
//! - it carries no private material (`d`, `p`, `q`, ...): a key set that
//!   publishes a private key has given it away;
//! - it is for signatures: `use` absent or `sig`, `key_ops` absent or holding
//!   `verify`, nothing but `sign`/`verify`, without duplicates (RFC 7517 §4.2,
//!   §4.3);
//! - its `alg`, when present, is an allowed algorithm that fits the key type
//!   and curve; without `alg`, the key serves one algorithm: the first allowed
//!   one of its type, in the order RS256, RS384, RS512, PS256, PS384, PS512;
//! - its material is well-formed: base64url without padding, RSA modulus
//!   2048 to 8192 bits with no leading zero octet and without the ROCA
//!   fingerprint (CVE-2017-15361), curve coordinates of full
//!   width that form a point on the curve (RFC 7518 §6);
//! - it has a `kid` of at most 256 bytes, and no other key with the same
//!   `kid` serves the same algorithm (such ambiguous keys are all dropped).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

use aws_lc_rs::signature::{ParsedPublicKey, RsaPublicKeyComponents};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::algorithm::{Algorithm, AlgorithmSet, KeyKind};
use crate::log_safe::log_safe;

/// The longest `kid` a key may have.
pub(crate) const MAX_KID_BYTES: usize = 256;
/// The most keys kept from one key set; any after them are dropped. Keys
/// that fail a check do not count, so junk cannot push good keys out (the
/// body size cap bounds the work).
pub(crate) const MAX_KEYS: usize = 64;

/// A public key, ready to verify signatures of one algorithm.
pub(crate) struct VerifyingKey {
    kid: Arc<str>,
    alg: Algorithm,
    key: ParsedPublicKey,
    /// A fingerprint of `(kid, alg, key material)`: equal for the same key in
    /// two fetches of the key set, different for any other key.
    fingerprint: u64,
}

impl VerifyingKey {
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key.verify_sig(message, signature).is_ok()
    }

    pub(crate) fn kid(&self) -> &Arc<str> {
        &self.kid
    }

    pub(crate) fn algorithm(&self) -> Algorithm {
        self.alg
    }

    pub(crate) fn fingerprint(&self) -> u64 {
        self.fingerprint
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("alg", &self.alg)
            .field("fingerprint", &format_args!("{:016x}", self.fingerprint))
            .finish()
    }
}

/// The usable keys of a key set, by `kid`.
#[derive(Default)]
pub(crate) struct KeySet {
    keys: HashMap<Box<str>, Vec<VerifyingKey>>,
}

/// The outcome of looking a key up.
pub(crate) enum Lookup<'a> {
    Found(&'a VerifyingKey),
    /// No key has this `kid`.
    UnknownKid,
    /// Keys have this `kid`, but none is for this algorithm.
    WrongAlgorithm,
}

impl KeySet {
    /// Reads a JWK Set document, keeping the keys that pass every check and
    /// may be used with one of `allowed`.
    ///
    /// Fails only if the document itself is not a JSON object with a `keys`
    /// array; a key set whose keys are all dropped is returned empty.
    pub(crate) fn parse(json: &[u8], allowed: AlgorithmSet) -> Result<KeySet, KeySetError> {
        #[derive(Deserialize)]
        struct Document<'a> {
            #[serde(borrow)]
            keys: Vec<&'a RawValue>,
        }
        let document: Document<'_> = crate::json::object(json).ok_or(KeySetError::NotAKeySet)?;
        let mut set = KeySet::default();
        // (kid, alg) pairs seen more than once: dropped, all of them.
        let mut ambiguous: Vec<(Box<str>, Algorithm)> = Vec::new();
        let mut kept = 0;
        for (index, raw) in document.keys.iter().enumerate() {
            if kept == MAX_KEYS {
                tracing::warn!(
                    keys = document.keys.len(),
                    max = MAX_KEYS,
                    "key set has too many keys; the ones after the first {MAX_KEYS} good keys are dropped"
                );
                break;
            }
            let jwk = match crate::json::object::<Jwk>(raw.get().as_bytes()) {
                Some(jwk) => jwk,
                None => {
                    tracing::warn!(index, "key dropped: not a well-formed JWK");
                    continue;
                }
            };
            let kid = jwk.kid.clone();
            match jwk.into_keys(allowed) {
                Ok((kid, keys)) => {
                    kept += 1;
                    for key in keys {
                        set.insert(&kid, key, &mut ambiguous);
                    }
                }
                Err(reason) => tracing::warn!(
                    index,
                    kid = kid.as_deref().map(log_safe),
                    reason = reason.as_str(),
                    "key dropped"
                ),
            }
        }
        for (kid, alg) in ambiguous {
            tracing::warn!(kid = log_safe(&kid), %alg, "keys dropped: several keys share this kid");
            if let Some(keys) = set.keys.get_mut(&kid) {
                keys.retain(|k| k.alg != alg);
                if keys.is_empty() {
                    set.keys.remove(&kid);
                }
            }
        }
        Ok(set)
    }

    fn insert(&mut self, kid: &str, key: VerifyingKey, ambiguous: &mut Vec<(Box<str>, Algorithm)>) {
        match self.keys.entry(kid.into()) {
            Entry::Vacant(slot) => {
                slot.insert(vec![key]);
            }
            Entry::Occupied(mut slot) => {
                if slot.get().iter().any(|k| k.alg == key.alg) {
                    if !ambiguous.iter().any(|(k, a)| **k == *kid && *a == key.alg) {
                        ambiguous.push((kid.into(), key.alg));
                    }
                } else {
                    slot.get_mut().push(key);
                }
            }
        }
    }

    pub(crate) fn lookup(&self, kid: &str, alg: Algorithm) -> Lookup<'_> {
        match self.keys.get(kid) {
            None => Lookup::UnknownKid,
            Some(keys) => match keys.iter().find(|k| k.alg == alg) {
                Some(key) => Lookup::Found(key),
                None => Lookup::WrongAlgorithm,
            },
        }
    }

    /// How many `(kid, algorithm)` keys are usable.
    pub(crate) fn len(&self) -> usize {
        self.keys.values().map(Vec::len).sum()
    }

    /// Whether no key is usable.
    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The `kid`s of the usable keys, sorted.
    pub(crate) fn kids(&self) -> Vec<&str> {
        let mut kids: Vec<&str> = self.keys.keys().map(|k| &**k).collect();
        kids.sort_unstable();
        kids
    }
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.keys
                    .iter()
                    .map(|(kid, keys)| (kid, keys.iter().map(|k| k.alg).collect::<Vec<_>>())),
            )
            .finish()
    }
}

/// Why a key-set document could not be read at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeySetError {
    NotAKeySet,
}

/// The members of a JWK that matter here. Wrong JSON types and duplicate
/// members make the whole key malformed.
#[derive(Deserialize)]
struct Jwk {
    kty: String,
    #[serde(rename = "use")]
    use_: Option<String>,
    key_ops: Option<Vec<String>>,
    alg: Option<String>,
    kid: Option<String>,
    crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
    #[serde(default, deserialize_with = "crate::json::present")]
    d: bool,
    #[serde(default, deserialize_with = "crate::json::present")]
    p: bool,
    #[serde(default, deserialize_with = "crate::json::present")]
    q: bool,
    #[serde(default, deserialize_with = "crate::json::present")]
    dp: bool,
    #[serde(default, deserialize_with = "crate::json::present")]
    dq: bool,
    #[serde(default, deserialize_with = "crate::json::present")]
    qi: bool,
    #[serde(default, deserialize_with = "crate::json::present")]
    oth: bool,
    #[serde(default, deserialize_with = "crate::json::present")]
    k: bool,
}

/// Why a key was dropped. Fixed strings only: they reach logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dropped {
    Symmetric,
    UnsupportedKeyType,
    PrivateMaterial,
    NotForSignatures,
    BadKeyOps,
    UnsupportedAlgorithm,
    AlgorithmNotAllowed,
    AlgorithmDoesNotFitKey,
    MissingKid,
    KidTooLong,
    UnsupportedCurve,
    MissingMaterial,
    BadEncoding,
    WeakRsaKey,
    RocaFingerprint,
    InvalidKey,
}

impl Dropped {
    fn as_str(self) -> &'static str {
        match self {
            Dropped::Symmetric => "symmetric (oct) keys are never used",
            Dropped::UnsupportedKeyType => "unsupported key type",
            Dropped::PrivateMaterial => "the key set publishes private key material",
            Dropped::NotForSignatures => "`use` is not `sig`",
            Dropped::BadKeyOps => {
                "`key_ops` lacks `verify`, has duplicates or non-signature operations"
            }
            Dropped::UnsupportedAlgorithm => "`alg` is not a supported asymmetric algorithm",
            Dropped::AlgorithmNotAllowed => "no allowed algorithm fits this key",
            Dropped::AlgorithmDoesNotFitKey => "`alg` does not fit the key type or curve",
            Dropped::MissingKid => "no `kid`",
            Dropped::KidTooLong => "`kid` is longer than 256 bytes",
            Dropped::UnsupportedCurve => "unsupported curve",
            Dropped::MissingMaterial => "key material is missing",
            Dropped::BadEncoding => "key material is not strict base64url or has the wrong length",
            Dropped::WeakRsaKey => "RSA modulus is shorter than 2048 or longer than 8192 bits",
            Dropped::RocaFingerprint => {
                "RSA modulus has the ROCA fingerprint (CVE-2017-15361): its private key can be recovered"
            }
            Dropped::InvalidKey => "key material does not form a valid public key",
        }
    }
}

fn b64(value: Option<&String>) -> Result<Vec<u8>, Dropped> {
    let value = value.ok_or(Dropped::MissingMaterial)?;
    URL_SAFE_NO_PAD
        .decode(value)
        .map_err(|_| Dropped::BadEncoding)
}

impl Jwk {
    /// The key's type, once it is known to be a public key for signatures.
    fn public_signing_kind(&self) -> Result<KeyKind, Dropped> {
        let kind = match (self.kty.as_str(), self.crv.as_deref()) {
            ("oct", _) => return Err(Dropped::Symmetric),
            ("RSA", _) => KeyKind::Rsa,
            ("EC", Some("P-256")) => KeyKind::P256,
            ("EC", Some("P-384")) => KeyKind::P384,
            ("OKP", Some("Ed25519")) => KeyKind::Ed25519,
            ("EC" | "OKP", _) => return Err(Dropped::UnsupportedCurve),
            _ => return Err(Dropped::UnsupportedKeyType),
        };
        if self.d || self.p || self.q || self.dp || self.dq || self.qi || self.oth || self.k {
            return Err(Dropped::PrivateMaterial);
        }
        if self.use_.as_deref().is_some_and(|u| u != "sig") {
            return Err(Dropped::NotForSignatures);
        }
        if let Some(ops) = &self.key_ops {
            // Only signature operations, `verify` among them, each once
            // (RFC 7517 §4.3: no duplicates; consistent with `use`).
            let duplicates = ops.iter().enumerate().any(|(i, op)| ops[..i].contains(op));
            let only_signatures = ops.iter().all(|op| op == "verify" || op == "sign");
            if duplicates || !only_signatures || !ops.iter().any(|op| op == "verify") {
                return Err(Dropped::BadKeyOps);
            }
        }
        Ok(kind)
    }

    fn into_keys(self, allowed: AlgorithmSet) -> Result<(String, Vec<VerifyingKey>), Dropped> {
        let kind = self.public_signing_kind()?;
        let algorithms: AlgorithmSet = match self.alg.as_deref() {
            Some(name) => {
                let alg = Algorithm::from_name(name).ok_or(Dropped::UnsupportedAlgorithm)?;
                if alg.key_kind() != kind {
                    return Err(Dropped::AlgorithmDoesNotFitKey);
                }
                if !allowed.contains(alg) {
                    return Err(Dropped::AlgorithmNotAllowed);
                }
                [alg].into_iter().collect()
            }
            // Without `alg`, the key serves one algorithm only: the first
            // allowed one of its type (RFC 8725 §3.1: one key, one algorithm).
            None => allowed
                .iter()
                .find(|a| a.key_kind() == kind)
                .into_iter()
                .collect(),
        };
        if algorithms.is_empty() {
            return Err(Dropped::AlgorithmNotAllowed);
        }
        let kid = self.kid.clone().ok_or(Dropped::MissingKid)?;
        if kid.len() > MAX_KID_BYTES {
            return Err(Dropped::KidTooLong);
        }
        let material = self.material(kind)?;
        let mut keys = Vec::new();
        for alg in algorithms.iter() {
            let key = material.parse(alg)?;
            keys.push(VerifyingKey {
                kid: kid.as_str().into(),
                alg,
                fingerprint: fingerprint(&kid, alg, key.as_ref()),
                key,
            });
        }
        Ok((kid, keys))
    }

    /// The key of a DPoP proof's `jwk` header (RFC 9449 §4.2): public, for
    /// signatures, of `alg`'s type, and well-formed; with its RFC 7638
    /// thumbprint. It needs no `kid`.
    fn into_proof_key(self, alg: Algorithm) -> Result<ProofKey, Dropped> {
        let kind = self.public_signing_kind()?;
        if alg.key_kind() != kind
            || self
                .alg
                .as_deref()
                .is_some_and(|named| named != alg.as_str())
        {
            return Err(Dropped::AlgorithmDoesNotFitKey);
        }
        let material = self.material(kind)?;
        let key = material.parse(alg)?;
        Ok(ProofKey {
            thumbprint: self.thumbprint(kind),
            key: VerifyingKey {
                kid: Arc::from(""),
                alg,
                fingerprint: 0,
                key,
            },
        })
    }

    /// The RFC 7638 thumbprint: SHA-256 of the required members in
    /// lexicographic order, without white space, base64url. The members were
    /// checked to be strict base64url (and the curve a known name), so they
    /// need no escaping.
    fn thumbprint(&self, kind: KeyKind) -> String {
        fn member(value: &Option<String>) -> &str {
            value.as_deref().unwrap_or_default()
        }
        let canonical = match kind {
            KeyKind::Rsa => format!(
                r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                member(&self.e),
                member(&self.n)
            ),
            KeyKind::P256 | KeyKind::P384 => format!(
                r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
                member(&self.crv),
                member(&self.x),
                member(&self.y)
            ),
            KeyKind::Ed25519 => format!(
                r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
                member(&self.x)
            ),
        };
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
        URL_SAFE_NO_PAD.encode(digest.as_ref())
    }
    fn material(&self, kind: KeyKind) -> Result<Material, Dropped> {
        match kind {
            KeyKind::Rsa => {
                let n = b64(self.n.as_ref())?;
                let e = b64(self.e.as_ref())?;
                // RFC 7518 §6.3.1: minimal big-endian octets, so no leading zero.
                if n.first().is_none_or(|b| *b == 0) || e.first().is_none_or(|b| *b == 0) {
                    return Err(Dropped::BadEncoding);
                }
                let bits = n.len() * 8 - n[0].leading_zeros() as usize;
                if !(2048..=8192).contains(&bits) {
                    return Err(Dropped::WeakRsaKey);
                }
                // An even or tiny exponent is never a real RSA key (e = 1 makes
                // every "signature" the message itself).
                let e_odd = e.last().is_some_and(|b| b & 1 == 1);
                if !e_odd || (e.len() == 1 && e[0] < 3) || e.len() > 4 {
                    return Err(Dropped::InvalidKey);
                }
                if has_roca_fingerprint(&n) {
                    return Err(Dropped::RocaFingerprint);
                }
                Ok(Material::Rsa { n, e })
            }
            KeyKind::P256 | KeyKind::P384 => {
                let width = if kind == KeyKind::P256 { 32 } else { 48 };
                let x = b64(self.x.as_ref())?;
                let y = b64(self.y.as_ref())?;
                if x.len() != width || y.len() != width {
                    return Err(Dropped::BadEncoding);
                }
                let mut point = Vec::with_capacity(1 + 2 * width);
                point.push(0x04);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                Ok(Material::Raw(point))
            }
            KeyKind::Ed25519 => {
                if self.y.is_some() {
                    return Err(Dropped::InvalidKey);
                }
                let x = b64(self.x.as_ref())?;
                if x.len() != 32 {
                    return Err(Dropped::BadEncoding);
                }
                if !is_usable_ed25519_point(&x) {
                    return Err(Dropped::InvalidKey);
                }
                Ok(Material::Raw(x))
            }
        }
    }
}

/// Ed25519 points of small order (the identity among them), as their
/// encodings without the sign bit. A key that is one of them verifies a
/// fixed signature for every message (RFC 8032 §5.1.7 does not rule this
/// out, and aws-lc does not check keys), so it is never used.
const SMALL_ORDER_ED25519: [[u8; 32]; 7] = {
    const fn point(first: [u8; 16], last: [u8; 16]) -> [u8; 32] {
        let mut out = [0; 32];
        let mut i = 0;
        while i < 16 {
            out[i] = first[i];
            out[16 + i] = last[i];
            i += 1;
        }
        out
    }
    const FF: [u8; 16] = [0xff; 16];
    let mut top = FF;
    top[15] = 0x7f;
    [
        // y = 0 (order 4) and y = 1 (the identity)
        point([0; 16], [0; 16]),
        point([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0; 16]),
        // the two y of the points of order 8
        point(
            [
                0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef,
                0x98, 0xf0,
            ],
            [
                0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
                0xfc, 0x05,
            ],
        ),
        point(
            [
                0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10,
                0x67, 0x0f,
            ],
            [
                0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
                0x03, 0x7a,
            ],
        ),
        // y = p - 1 (order 2), and y = p, p + 1: 0 and 1 written above p
        point(
            [
                0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                0xff, 0xff,
            ],
            top,
        ),
        point(
            [
                0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                0xff, 0xff,
            ],
            top,
        ),
        point(
            [
                0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                0xff, 0xff,
            ],
            top,
        ),
    ]
};

/// Whether an Ed25519 public key is canonically encoded (`y < p`, RFC 8032
/// §5.1.3) and not a point of small order.
fn is_usable_ed25519_point(encoded: &[u8]) -> bool {
    let Ok(mut y) = <[u8; 32]>::try_from(encoded) else {
        return false;
    };
    y[31] &= 0x7f;
    // p = 2^255 - 19: y >= p only if every byte above the lowest is at its
    // maximum and the lowest is at least 0xed.
    let at_least_p = y[0] >= 0xed && y[1..31].iter().all(|b| *b == 0xff) && y[31] == 0x7f;
    !at_least_p && !SMALL_ORDER_ED25519.contains(&y)
}

/// The small odd primes that divide the moduli ROCA-vulnerable key
/// generators use (every key size includes at least these).
const ROCA_PRIMES: [u32; 38] = [
    3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97,
    101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
];

/// Whether an RSA modulus was made by the flawed Infineon generator of
/// CVE-2017-15361 ("ROCA"). Such primes have the form `k·M + (65537^a mod M)`
/// for a primorial `M`, so for every small prime `p` dividing `M`, `n mod p`
/// lies in the subgroup that 65537 generates modulo `p`. A random modulus
/// passes that test for all 38 primes with probability about 4·10⁻⁹.
fn has_roca_fingerprint(n: &[u8]) -> bool {
    ROCA_PRIMES.iter().all(|&p| {
        let residue = n
            .iter()
            .fold(0u32, |r, &byte| (r * 256 + u32::from(byte)) % p);
        let generator = 65537 % p;
        let mut power = 1;
        loop {
            if power == residue {
                return true;
            }
            power = power * generator % p;
            if power == 1 {
                return false;
            }
        }
    })
}

/// A DPoP proof's public key and its RFC 7638 thumbprint.
pub(crate) struct ProofKey {
    pub(crate) key: VerifyingKey,
    pub(crate) thumbprint: String,
}

/// Reads a DPoP proof's `jwk` header for a proof signed with `alg`; the
/// reason it is unusable otherwise (a fixed string).
pub(crate) fn proof_key(json: &[u8], alg: Algorithm) -> Result<ProofKey, &'static str> {
    let jwk = crate::json::object::<Jwk>(json).ok_or("the proof's jwk is not a well-formed JWK")?;
    jwk.into_proof_key(alg).map_err(Dropped::as_str)
}

impl Material {
    /// The key, parsed once, for `alg`.
    fn parse(&self, alg: Algorithm) -> Result<ParsedPublicKey, Dropped> {
        match self {
            Material::Rsa { n, e } => {
                let params = alg.rsa_parameters().ok_or(Dropped::InvalidKey)?;
                RsaPublicKeyComponents {
                    n: &n[..],
                    e: &e[..],
                }
                .to_parsed_public_key(params)
                .map_err(|_| Dropped::InvalidKey)
            }
            Material::Raw(bytes) => {
                ParsedPublicKey::new(alg.verification(), bytes).map_err(|_| Dropped::InvalidKey)
            }
        }
    }
}

enum Material {
    Rsa { n: Vec<u8>, e: Vec<u8> },
    Raw(Vec<u8>),
}

fn fingerprint(kid: &str, alg: Algorithm, key: &[u8]) -> u64 {
    // A fixed-key hasher: the value must be the same across fetches. It only
    // tells apart keys of the trusted key set; it is not a security boundary.
    static STATE: std::sync::OnceLock<std::collections::hash_map::RandomState> =
        std::sync::OnceLock::new();
    let mut hasher = STATE.get_or_init(Default::default).build_hasher();
    kid.hash(&mut hasher);
    alg.hash(&mut hasher);
    key.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use crate::jws;
    use crate::test_strategies::{all_algorithms, ed25519_jwk, json_value, key_set, sign};

    const ALL: fn() -> AlgorithmSet = || Algorithm::ALL.into_iter().collect();

    // RFC 7515 appendix A.3's P-256 key.
    const P256_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
    const P256_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";

    fn ec(kid: &str, extra: &str) -> String {
        format!(
            r#"{{"kty":"EC","crv":"P-256","kid":"{kid}","x":"{P256_X}","y":"{P256_Y}"{extra}}}"#
        )
    }

    fn set(keys: &[String]) -> KeySet {
        KeySet::parse(
            format!(r#"{{"keys":[{}]}}"#, keys.join(",")).as_bytes(),
            ALL(),
        )
        .unwrap()
    }

    /// RFC 7638 §3.1's RSA key and its thumbprint.
    const RFC7638_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

    #[test]
    fn proof_keys_have_their_rfc_7638_thumbprint() {
        let jwk =
            json!({"kty": "RSA", "n": RFC7638_N, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"});
        let key = proof_key(jwk.to_string().as_bytes(), Algorithm::RS256).unwrap();
        assert_eq!(
            key.thumbprint,
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
        // Member order and extra members do not change it.
        let reordered = json!({"e": "AQAB", "use": "sig", "n": RFC7638_N, "kty": "RSA"});
        let again = proof_key(reordered.to_string().as_bytes(), Algorithm::PS256).unwrap();
        assert_eq!(again.thumbprint, key.thumbprint);
    }

    #[test]
    fn proof_keys_are_public_signing_keys_for_their_alg() {
        let ec = json!({"kty": "EC", "crv": "P-256", "x": P256_X, "y": P256_Y});
        assert!(proof_key(ec.to_string().as_bytes(), Algorithm::ES256).is_ok());
        let refused = [
            (ec.clone(), Algorithm::ES384),
            (ec.clone(), Algorithm::RS256),
            (
                json!({"kty": "EC", "crv": "P-256", "x": P256_X, "y": P256_Y, "d": "AAAA"}),
                Algorithm::ES256,
            ),
            (
                json!({"kty": "EC", "crv": "P-256", "x": P256_X, "y": P256_Y, "alg": "ES384"}),
                Algorithm::ES256,
            ),
            (
                json!({"kty": "EC", "crv": "P-256", "x": P256_X, "y": P256_Y, "use": "enc"}),
                Algorithm::ES256,
            ),
            (json!({"kty": "oct", "k": "c2VjcmV0"}), Algorithm::ES256),
            (
                json!({"kty": "EC", "crv": "P-256", "x": P256_X}),
                Algorithm::ES256,
            ),
            (json!("not an object"), Algorithm::ES256),
        ];
        for (jwk, alg) in refused {
            assert!(
                proof_key(jwk.to_string().as_bytes(), alg).is_err(),
                "{jwk} {alg}"
            );
        }
    }

    #[test]
    fn a_good_ec_key_is_kept_for_its_one_algorithm() {
        let keys = set(&[ec("a", "")]);
        assert_eq!(keys.len(), 1);
        assert!(matches!(
            keys.lookup("a", Algorithm::ES256),
            Lookup::Found(_)
        ));
        assert!(matches!(
            keys.lookup("a", Algorithm::ES384),
            Lookup::WrongAlgorithm
        ));
        assert!(matches!(
            keys.lookup("b", Algorithm::ES256),
            Lookup::UnknownKid
        ));
    }

    #[test]
    fn bad_keys_are_dropped_and_good_ones_kept() {
        let bad = [
            ec("use-enc", r#","use":"enc""#),
            ec("ops", r#","key_ops":["sign"]"#),
            ec("ops-dup", r#","key_ops":["verify","verify"]"#),
            ec("ops-enc", r#","use":"sig","key_ops":["verify","encrypt"]"#),
            ec("private", r#","d":"AAAA""#),
            ec("private-null", r#","d":null"#),
            ec("alg-hs", r#","alg":"HS256""#),
            ec("alg-none", r#","alg":"none""#),
            ec("alg-rs", r#","alg":"RS256""#),
            ec("alg-es384", r#","alg":"ES384""#),
            ec("kid-type", r#","kid":5"#),
            format!(r#"{{"kty":"EC","crv":"P-256","x":"{P256_X}","y":"{P256_Y}"}}"#),
            r#"{"kty":"oct","kid":"hmac","k":"c2VjcmV0"}"#.to_string(),
            r#"{"kty":"EC","crv":"P-256","kid":"short","x":"AAAA","y":"AAAA"}"#.to_string(),
            format!(r#"{{"kty":"EC","crv":"P-256","kid":"off","x":"{P256_X}","y":"{}"}}"#, P256_X),
            format!(r#"{{"kty":"EC","crv":"P-256","kid":"pad","x":"{P256_X}=","y":"{P256_Y}"}}"#),
            format!(r#"{{"kty":"EC","crv":"secp256k1","kid":"k1","x":"{P256_X}","y":"{P256_Y}"}}"#),
            r#"{"kty":"OKP","crv":"X25519","kid":"x","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#.to_string(),
            r#""not an object""#.to_string(),
            format!(r#"["EC",null,null,"ES256","array","P-256",null,null,"{P256_X}","{P256_Y}"]"#),
        ];
        let mut all = bad.to_vec();
        all.push(ec(
            "good",
            r#","use":"sig","key_ops":["verify"],"alg":"ES256""#,
        ));
        let keys = set(&all);
        assert_eq!(keys.kids(), vec!["good"]);
    }

    #[test]
    fn a_key_without_alg_serves_one_algorithm() {
        let jwks = br#"{"keys":[{"kty":"RSA","kid":"r","e":"AQAB","n":"sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw"}]}"#;
        let all: AlgorithmSet = Algorithm::ALL.into_iter().collect();
        let keys = KeySet::parse(jwks, all).unwrap();
        assert_eq!(keys.len(), 1);
        assert!(matches!(
            keys.lookup("r", Algorithm::RS256),
            Lookup::Found(_)
        ));
        assert!(matches!(
            keys.lookup("r", Algorithm::PS256),
            Lookup::WrongAlgorithm
        ));
        let ps: AlgorithmSet = [Algorithm::PS256, Algorithm::PS384].into_iter().collect();
        let keys = KeySet::parse(jwks, ps).unwrap();
        assert!(matches!(
            keys.lookup("r", Algorithm::PS256),
            Lookup::Found(_)
        ));
        assert!(matches!(
            keys.lookup("r", Algorithm::PS384),
            Lookup::WrongAlgorithm
        ));
    }

    #[test]
    fn roca_moduli_are_dropped() {
        // 65537^128 has exactly the residues the fingerprint looks for, and
        // 2049 bits: the shape of a modulus from the flawed generator.
        let mut n = vec![1u8];
        for _ in 0..128 {
            let mut carry = 0u32;
            for byte in n.iter_mut().rev() {
                let v = u32::from(*byte) * 65537 + carry;
                *byte = v as u8;
                carry = v >> 8;
            }
            while carry > 0 {
                n.insert(0, carry as u8);
                carry >>= 8;
            }
        }
        assert!(has_roca_fingerprint(&n));
        let jwk = format!(
            r#"{{"keys":[{{"kty":"RSA","kid":"roca","e":"AQAB","n":"{}"}}]}}"#,
            URL_SAFE_NO_PAD.encode(&n)
        );
        assert!(KeySet::parse(jwk.as_bytes(), ALL()).unwrap().is_empty());
        // An ordinary modulus (the one above, plus 2) is kept.
        let last = n.len() - 1;
        n[last] += 2;
        assert!(!has_roca_fingerprint(&n));
        let jwk = format!(
            r#"{{"keys":[{{"kty":"RSA","kid":"plain","e":"AQAB","n":"{}"}}]}}"#,
            URL_SAFE_NO_PAD.encode(&n)
        );
        assert_eq!(KeySet::parse(jwk.as_bytes(), ALL()).unwrap().len(), 1);
    }

    #[test]
    fn small_order_and_non_canonical_ed25519_keys_are_dropped() {
        let okp = |x: &[u8]| {
            format!(
                r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","kid":"k","x":"{}"}}]}}"#,
                URL_SAFE_NO_PAD.encode(x)
            )
        };
        let mut bad: Vec<[u8; 32]> = SMALL_ORDER_ED25519.to_vec();
        // The same points with the sign bit set.
        bad.extend(SMALL_ORDER_ED25519.iter().map(|p| {
            let mut p = *p;
            p[31] |= 0x80;
            p
        }));
        // y = p + 5, a non-canonical encoding of y = 5.
        let mut above = [0xff; 32];
        above[0] = 0xf2;
        above[31] = 0x7f;
        bad.push(above);
        for x in bad {
            assert!(
                KeySet::parse(okp(&x).as_bytes(), ALL()).unwrap().is_empty(),
                "{x:02x?}"
            );
        }
        // RFC 8032 §7.1, test 1: a real key is kept.
        let good: Vec<u8> = (0..32)
            .map(|i| {
                let hex = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
                u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap()
            })
            .collect();
        assert_eq!(
            KeySet::parse(okp(&good).as_bytes(), ALL()).unwrap().len(),
            1
        );
    }

    #[test]
    fn duplicate_kid_for_the_same_algorithm_drops_both() {
        let keys = set(&[ec("same", ""), ec("same", "")]);
        assert!(keys.is_empty());
    }

    #[test]
    fn not_a_key_set_is_an_error() {
        for doc in ["", "[]", "{}", r#"{"keys":{}}"#, r#"{"keys":[]} x"#, "null"] {
            assert!(KeySet::parse(doc.as_bytes(), ALL()).is_err(), "{doc:?}");
        }
        assert!(KeySet::parse(br#"{"keys":[]}"#, ALL()).unwrap().is_empty());
    }

    // ----- Property tests (proptest) of the key-set parser.

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn key_set_parser_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = KeySet::parse(&bytes, all_algorithms());
        }

        #[test]
        fn key_set_parser_never_panics_on_json(keys in proptest::collection::vec(json_value(), 0..6)) {
            let document = json!({ "keys": keys }).to_string();
            let _ = KeySet::parse(document.as_bytes(), all_algorithms());
        }

        #[test]
        fn bad_keys_never_break_good_ones(
            good in proptest::collection::btree_set(1u8..16, 0..5),
            junk in proptest::collection::vec(json_value(), 0..6),
            broken in proptest::collection::vec(0..6usize, 0..4),
            order in any::<u64>(),
        ) {
            let mut keys: Vec<Value> = good.iter().map(|seed| ed25519_jwk(*seed, &format!("good-{seed}"))).collect();
            keys.extend(junk.into_iter().map(|mut value| {
                if let Some(object) = value.as_object_mut() {
                    object.insert("kid".into(), json!("junk"));
                }
                value
            }));
            // Good keys spoiled in one way each: all dropped.
            for (i, how) in broken.iter().enumerate() {
                let mut key = ed25519_jwk(100 + i as u8, &format!("broken-{i}"));
                match how {
                    0 => key["use"] = json!("enc"),
                    1 => key["d"] = json!("AAAA"),
                    2 => key["alg"] = json!("ES256"),
                    3 => key["x"] = json!("AAAA"),
                    4 => key["crv"] = json!("X25519"),
                    _ => key["key_ops"] = json!(["encrypt"]),
                }
                keys.push(key);
            }
            // A reproducible shuffle.
            let mut state = order | 1;
            for i in (1..keys.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                keys.swap(i, (state % (i as u64 + 1)) as usize);
            }
            let set = key_set(&keys);
            prop_assert_eq!(set.len(), good.len());
            for seed in &good {
                let found = matches!(set.lookup(&format!("good-{seed}"), Algorithm::EdDSA), Lookup::Found(_));
                prop_assert!(found);
                let token = sign(*seed, &format!("good-{seed}"), b"{}");
                prop_assert!(jws::verify(&token, &set, all_algorithms()).is_ok());
            }
            for i in 0..broken.len() {
                let token = sign(100 + i as u8, &format!("broken-{i}"), b"{}");
                prop_assert!(jws::verify(&token, &set, all_algorithms()).is_err());
            }
        }
    }
}
