//! The key arithmetic behind the keyring: a clinician's two key pairs, wrapped under their
//! passphrase, and the chart key sealed to a clinician's public key.
//!
//! - Passphrase to wrapping key: Argon2id; OWASP Password Storage Cheat Sheet (2023): at
//!   least 19 MiB of memory, 2 iterations, parallelism 1. The parameters are stored with
//!   each wrap, so a wrap made with other parameters still opens.
//! - Wrapping: ChaCha20-Poly1305 with a fresh random nonce per wrap; the wrap's header
//!   (format, clinician id and name, public keys, KDF parameters, salt, nonce) is the
//!   authenticated data, so no part of it can be swapped without the wrap failing.
//! - Sealing the chart key to a clinician: an ephemeral X25519 key agreement with their
//!   public key, HKDF-SHA256 to a one-time key, ChaCha20-Poly1305 with the clinician id and
//!   public key as authenticated data. Sealing needs only the public key: an admin adds a
//!   clinician, and a removal re-keys the chart, without anyone else's passphrase.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use ed25519_dalek::SigningKey;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, Zeroizing};

/// A 256-bit secret (the chart key, a wrapping key), wiped when dropped.
pub type Secret32 = Zeroizing<[u8; 32]>;

/// Argon2id's cost, as stored with each wrap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KdfParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl KdfParams {
    /// OWASP's minimum for Argon2id: 19 MiB, 2 iterations, parallelism 1 (see the module).
    pub const OWASP: KdfParams = KdfParams {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    /// Below this no wrap is made or opened: a keyring edited to a trivial cost is refused
    /// rather than trusted (a stolen keyring is then no cheaper to guess at than intended).
    fn is_acceptable(&self) -> bool {
        self.memory_kib >= 8 * 1024
            && self.memory_kib <= 4 * 1024 * 1024
            && (1..=16).contains(&self.iterations)
            && (1..=16).contains(&self.parallelism)
    }
}

/// Random bytes from the operating system.
pub fn random<const N: usize>() -> Result<[u8; N], String> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|e| format!("no random numbers from the system: {e}"))?;
    Ok(out)
}

/// A fresh 256-bit chart key.
pub fn new_chart_key() -> Result<Secret32, String> {
    Ok(Zeroizing::new(random::<32>()?))
}

/// One clinician's private keys: X25519 (receives the chart key) and Ed25519 (signs notes).
/// Both wipe themselves when dropped.
pub struct PrivateKeys {
    pub agreement: StaticSecret,
    pub signing: SigningKey,
}

impl PrivateKeys {
    pub fn generate() -> Result<PrivateKeys, String> {
        let mut a = random::<32>()?;
        let mut s = random::<32>()?;
        let keys = PrivateKeys {
            agreement: StaticSecret::from(a),
            signing: SigningKey::from_bytes(&s),
        };
        a.zeroize();
        s.zeroize();
        Ok(keys)
    }

    pub fn agreement_public(&self) -> [u8; 32] {
        PublicKey::from(&self.agreement).to_bytes()
    }

    pub fn signing_public(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    fn to_bytes(&self) -> Zeroizing<[u8; 64]> {
        let mut out = Zeroizing::new([0u8; 64]);
        out[..32].copy_from_slice(self.agreement.as_bytes());
        out[32..].copy_from_slice(self.signing.as_bytes());
        out
    }

    fn from_bytes(bytes: &[u8]) -> Option<PrivateKeys> {
        if bytes.len() != 64 {
            return None;
        }
        let mut a = [0u8; 32];
        let mut s = [0u8; 32];
        a.copy_from_slice(&bytes[..32]);
        s.copy_from_slice(&bytes[32..]);
        let keys = PrivateKeys {
            agreement: StaticSecret::from(a),
            signing: SigningKey::from_bytes(&s),
        };
        a.zeroize();
        s.zeroize();
        Some(keys)
    }
}

/// Private keys sealed under a passphrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wrap {
    pub kdf: KdfParams,
    pub salt: [u8; 16],
    pub nonce: [u8; 12],
    pub sealed: Vec<u8>,
}

/// What a wrap is bound to: its clinician and their public keys.
pub struct WrapHeader<'a> {
    pub format: u32,
    pub clinician_id: i64,
    pub name: &'a str,
    pub agreement_public: [u8; 32],
    pub signing_public: [u8; 32],
}

fn wrap_ad(h: &WrapHeader<'_>, kdf: &KdfParams, salt: &[u8], nonce: &[u8]) -> Vec<u8> {
    let mut ad = b"kapchart keyring wrap".to_vec();
    ad.extend_from_slice(&h.format.to_be_bytes());
    ad.extend_from_slice(&h.clinician_id.to_be_bytes());
    ad.extend_from_slice(&(h.name.len() as u64).to_be_bytes());
    ad.extend_from_slice(h.name.as_bytes());
    ad.extend_from_slice(&h.agreement_public);
    ad.extend_from_slice(&h.signing_public);
    for n in [kdf.memory_kib, kdf.iterations, kdf.parallelism] {
        ad.extend_from_slice(&n.to_be_bytes());
    }
    ad.extend_from_slice(salt);
    ad.extend_from_slice(nonce);
    ad
}

fn derive(passphrase: &str, kdf: &KdfParams, salt: &[u8]) -> Result<Secret32, String> {
    if !kdf.is_acceptable() {
        return Err(format!(
            "the keyring asks for an Argon2id cost kapchart does not accept ({} KiB, {} iterations, parallelism {})",
            kdf.memory_kib, kdf.iterations, kdf.parallelism
        ));
    }
    let params = argon2::Params::new(kdf.memory_kib, kdf.iterations, kdf.parallelism, Some(32))
        .map_err(|e| format!("Argon2id parameters: {e}"))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.as_bytes(), salt, out.as_mut())
        .map_err(|e| format!("Argon2id: {e}"))?;
    Ok(out)
}

/// Wraps `keys` under `passphrase` with a fresh salt and nonce.
pub fn wrap(
    keys: &PrivateKeys,
    passphrase: &str,
    header: &WrapHeader<'_>,
    kdf: KdfParams,
) -> Result<Wrap, String> {
    let salt = random::<16>()?;
    let nonce = random::<12>()?;
    let key = derive(passphrase, &kdf, &salt)?;
    let cipher = ChaCha20Poly1305::new_from_slice(key.as_ref()).map_err(|e| e.to_string())?;
    let ad = wrap_ad(header, &kdf, &salt, &nonce);
    let plain = keys.to_bytes();
    let sealed = cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: plain.as_ref(),
                aad: &ad,
            },
        )
        .map_err(|_| "sealing the private keys failed".to_string())?;
    Ok(Wrap {
        kdf,
        salt,
        nonce,
        sealed,
    })
}

/// Opens a wrap with `passphrase`: None when the passphrase (or anything in the header) is
/// not the one it was made with. The keys must match the header's public keys.
pub fn unwrap(
    w: &Wrap,
    passphrase: &str,
    header: &WrapHeader<'_>,
) -> Result<Option<PrivateKeys>, String> {
    let key = derive(passphrase, &w.kdf, &w.salt)?;
    let cipher = ChaCha20Poly1305::new_from_slice(key.as_ref()).map_err(|e| e.to_string())?;
    let ad = wrap_ad(header, &w.kdf, &w.salt, &w.nonce);
    let Ok(plain) = cipher.decrypt(
        &Nonce::from(w.nonce),
        Payload {
            msg: &w.sealed,
            aad: &ad,
        },
    ) else {
        return Ok(None);
    };
    let plain = Zeroizing::new(plain);
    let keys = PrivateKeys::from_bytes(&plain);
    Ok(keys.filter(|k| {
        k.agreement_public() == header.agreement_public
            && k.signing_public() == header.signing_public
    }))
}

/// The chart key sealed to one clinician's X25519 public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub ephemeral: [u8; 32],
    pub nonce: [u8; 12],
    pub sealed: Vec<u8>,
}

fn seal_key(shared: &[u8; 32], ephemeral: &[u8; 32], recipient: &[u8; 32]) -> Secret32 {
    let mut salt = [0u8; 64];
    salt[..32].copy_from_slice(ephemeral);
    salt[32..].copy_from_slice(recipient);
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(&salt), shared);
    let mut out = Zeroizing::new([0u8; 32]);
    // 32 bytes is always a valid HKDF-SHA256 output length.
    let _ = hk.expand(b"kapchart chart key v1", out.as_mut());
    out
}

fn seal_ad(clinician_id: i64, recipient: &[u8; 32]) -> Vec<u8> {
    let mut ad = b"kapchart chart key".to_vec();
    ad.extend_from_slice(&clinician_id.to_be_bytes());
    ad.extend_from_slice(recipient);
    ad
}

/// Seals `chart_key` to `recipient` (their X25519 public key).
pub fn seal(
    chart_key: &[u8; 32],
    clinician_id: i64,
    recipient: &[u8; 32],
) -> Result<Sealed, String> {
    let ephemeral_secret = StaticSecret::from(random::<32>()?);
    let ephemeral = PublicKey::from(&ephemeral_secret).to_bytes();
    let shared = ephemeral_secret.diffie_hellman(&PublicKey::from(*recipient));
    if !shared.was_contributory() {
        return Err("that public key cannot receive the chart key".into());
    }
    let key = seal_key(shared.as_bytes(), &ephemeral, recipient);
    let nonce = random::<12>()?;
    let cipher = ChaCha20Poly1305::new_from_slice(key.as_ref()).map_err(|e| e.to_string())?;
    let sealed = cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: chart_key,
                aad: &seal_ad(clinician_id, recipient),
            },
        )
        .map_err(|_| "sealing the chart key failed".to_string())?;
    Ok(Sealed {
        ephemeral,
        nonce,
        sealed,
    })
}

/// Opens a sealed chart key with the clinician's private X25519 key.
pub fn unseal(s: &Sealed, clinician_id: i64, keys: &PrivateKeys) -> Option<Secret32> {
    let recipient = keys.agreement_public();
    let shared = keys.agreement.diffie_hellman(&PublicKey::from(s.ephemeral));
    let key = seal_key(shared.as_bytes(), &s.ephemeral, &recipient);
    let cipher = ChaCha20Poly1305::new_from_slice(key.as_ref()).ok()?;
    let plain = Zeroizing::new(
        cipher
            .decrypt(
                &Nonce::from(s.nonce),
                Payload {
                    msg: &s.sealed,
                    aad: &seal_ad(clinician_id, &recipient),
                },
            )
            .ok()?,
    );
    let mut out = Zeroizing::new([0u8; 32]);
    if plain.len() != 32 {
        return None;
    }
    out.copy_from_slice(&plain);
    Some(out)
}

pub fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

pub fn from_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(keys: &PrivateKeys) -> WrapHeader<'static> {
        WrapHeader {
            format: 1,
            clinician_id: 7,
            name: "Dr. Test",
            agreement_public: keys.agreement_public(),
            signing_public: keys.signing_public(),
        }
    }

    #[test]
    fn a_wrap_opens_with_its_passphrase_only_and_with_its_header_only() {
        let keys = PrivateKeys::generate().unwrap();
        let h = header(&keys);
        let w = wrap(&keys, "correct horse", &h, KdfParams::OWASP).unwrap();
        let back = unwrap(&w, "correct horse", &h).unwrap().expect("opens");
        assert_eq!(back.signing_public(), keys.signing_public());
        assert!(unwrap(&w, "correct hors", &h).unwrap().is_none());
        let other = WrapHeader {
            clinician_id: 8,
            ..header(&keys)
        };
        assert!(unwrap(&w, "correct horse", &other).unwrap().is_none());
        let renamed = WrapHeader {
            name: "Dr. Other",
            ..header(&keys)
        };
        assert!(unwrap(&w, "correct horse", &renamed).unwrap().is_none());
        // A fresh nonce and salt per wrap.
        let again = wrap(&keys, "correct horse", &h, KdfParams::OWASP).unwrap();
        assert_ne!(again.nonce, w.nonce);
        assert_ne!(again.salt, w.salt);
    }

    #[test]
    fn a_trivial_cost_is_refused() {
        let keys = PrivateKeys::generate().unwrap();
        let cheap = KdfParams {
            memory_kib: 8,
            iterations: 1,
            parallelism: 1,
        };
        assert!(wrap(&keys, "pw", &header(&keys), cheap).is_err());
    }

    #[test]
    fn the_chart_key_unseals_for_its_clinician_only() {
        let chart_key = new_chart_key().unwrap();
        let alice = PrivateKeys::generate().unwrap();
        let bob = PrivateKeys::generate().unwrap();
        let sealed = seal(&chart_key, 1, &alice.agreement_public()).unwrap();
        assert_eq!(*unseal(&sealed, 1, &alice).unwrap(), *chart_key);
        assert!(
            unseal(&sealed, 2, &alice).is_none(),
            "bound to the clinician id"
        );
        assert!(unseal(&sealed, 1, &bob).is_none());
    }

    #[test]
    fn hex_round_trips() {
        let b = [0u8, 1, 0xab, 0xff];
        assert_eq!(from_hex(&to_hex(&b)).unwrap(), b);
        assert!(from_hex("abc").is_none());
        assert!(from_hex("zz").is_none());
    }
}
