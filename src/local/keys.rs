//! Signing keys of the local issuer: generated with aws-lc-rs, published as
//! JWKs, and used through `jsonwebtoken`'s signer, so that the verifier is
//! always tested against tokens made by another JOSE implementation.

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::EncodingKey;
use serde_json::{Value, json};

use super::ids::new_kid;
use crate::Algorithm;

/// A private signing key of the local issuer.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    alg: Algorithm,
    /// PKCS#8 of the private key: what is persisted.
    pkcs8: Vec<u8>,
    encoding: EncodingKey,
    jwk: Value,
}

/// Why a key could not be made or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError(pub(crate) &'static str);

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for KeyError {}

impl SigningKey {
    /// Generates a key for `alg` (RSA keys are 2048 bits).
    pub fn generate(alg: Algorithm) -> Result<SigningKey, KeyError> {
        let rng = SystemRandom::new();
        let pkcs8 = match alg {
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => {
                let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                    .map_err(|_| KeyError("RSA key generation failed"))?;
                let der: aws_lc_rs::encoding::Pkcs8V1Der<'_> = pair
                    .as_der()
                    .map_err(|_| KeyError("RSA key encoding failed"))?;
                der.as_ref().to_vec()
            }
            Algorithm::ES256 | Algorithm::ES384 => {
                EcdsaKeyPair::generate_pkcs8(ec_signing(alg), &rng)
                    .map_err(|_| KeyError("EC key generation failed"))?
                    .as_ref()
                    .to_vec()
            }
            Algorithm::EdDSA => Ed25519KeyPair::generate_pkcs8(&rng)
                .map_err(|_| KeyError("Ed25519 key generation failed"))?
                .as_ref()
                .to_vec(),
        };
        SigningKey::from_pkcs8(new_kid(), alg, pkcs8)
    }

    /// Reads a key back from its PKCS#8 form.
    pub fn from_pkcs8(kid: String, alg: Algorithm, pkcs8: Vec<u8>) -> Result<SigningKey, KeyError> {
        let (encoding, public) = match alg.key_kind() {
            crate::algorithm::KeyKind::Rsa => {
                let pair = aws_lc_rs::rsa::KeyPair::from_pkcs8(&pkcs8)
                    .map_err(|_| KeyError("not an RSA PKCS#8 key"))?;
                let public = pair.public_key();
                let jwk = json!({
                    "kty": "RSA",
                    "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
                    "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
                });
                let pkcs1 = pkcs8_private_key(&pkcs8).ok_or(KeyError("malformed PKCS#8"))?;
                (EncodingKey::from_rsa_der(pkcs1), jwk)
            }
            crate::algorithm::KeyKind::P256 | crate::algorithm::KeyKind::P384 => {
                let pair = EcdsaKeyPair::from_pkcs8(ec_signing(alg), &pkcs8)
                    .map_err(|_| KeyError("not an EC PKCS#8 key for this algorithm"))?;
                let point = pair.public_key().as_ref();
                let width = (point.len() - 1) / 2;
                let jwk = json!({
                    "kty": "EC",
                    "crv": if alg == Algorithm::ES256 { "P-256" } else { "P-384" },
                    "x": URL_SAFE_NO_PAD.encode(&point[1..1 + width]),
                    "y": URL_SAFE_NO_PAD.encode(&point[1 + width..]),
                });
                (EncodingKey::from_ec_der(&pkcs8), jwk)
            }
            crate::algorithm::KeyKind::Ed25519 => {
                let pair = Ed25519KeyPair::from_pkcs8(&pkcs8)
                    .map_err(|_| KeyError("not an Ed25519 PKCS#8 key"))?;
                let jwk = json!({
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
                });
                (EncodingKey::from_ed_der(&pkcs8), jwk)
            }
        };
        let mut jwk = public;
        if let Value::Object(map) = &mut jwk {
            map.insert("kid".into(), Value::String(kid.clone()));
            map.insert("alg".into(), Value::String(alg.as_str().into()));
            map.insert("use".into(), Value::String("sig".into()));
        }
        Ok(SigningKey {
            kid,
            alg,
            pkcs8,
            encoding,
            jwk,
        })
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The private key, PKCS#8 DER.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The public JWK, with `kid`, `alg` and `use: sig`.
    pub fn public_jwk(&self) -> &Value {
        &self.jwk
    }

    /// Signs `header.payload` (the ASCII signing input) and returns the
    /// base64url signature.
    pub fn sign(&self, signing_input: &[u8]) -> Result<String, KeyError> {
        jsonwebtoken::crypto::sign(signing_input, &self.encoding, self.alg.to_jsonwebtoken())
            .map_err(|_| KeyError("signing failed"))
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

fn ec_signing(alg: Algorithm) -> &'static signature::EcdsaSigningAlgorithm {
    if alg == Algorithm::ES384 {
        &signature::ECDSA_P384_SHA384_FIXED_SIGNING
    } else {
        &signature::ECDSA_P256_SHA256_FIXED_SIGNING
    }
}

/// Reads one DER element: `(tag, contents, rest)`.
fn der_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let octets = usize::from(first & 0x7f);
        if octets == 0 || octets > 4 || rest.len() < octets {
            return None;
        }
        let len = rest[..octets]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[octets..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The `privateKey` OCTET STRING of a PKCS#8 `PrivateKeyInfo` (RFC 5208):
/// for RSA, the PKCS#1 `RSAPrivateKey` that `jsonwebtoken` signs with.
fn pkcs8_private_key(pkcs8: &[u8]) -> Option<&[u8]> {
    let (0x30, info, _) = der_element(pkcs8)? else {
        return None;
    };
    let (0x02, _version, rest) = der_element(info)? else {
        return None;
    };
    let (0x30, _algorithm, rest) = der_element(rest)? else {
        return None;
    };
    let (0x04, key, _) = der_element(rest)? else {
        return None;
    };
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_generates_signs_and_reloads() {
        for alg in Algorithm::ALL {
            let key = SigningKey::generate(alg).unwrap();
            assert!(!key.sign(b"a.b").unwrap().is_empty(), "{alg}");
            let again =
                SigningKey::from_pkcs8(key.kid().into(), alg, key.pkcs8().to_vec()).unwrap();
            assert_eq!(again.public_jwk(), key.public_jwk());
        }
    }
}
