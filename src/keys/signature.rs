//! SSH signatures (`ssh-keygen -Y` compatible): armoring and verifying
//! an entry's signature under the key it names, in Veil's namespace.

use super::*;
use ssh_key::{PublicKey, SshSig};

/// The armored form `ssh-keygen -Y verify -s` reads, from one line of base64.
pub fn armor_signature(b64: &str) -> String {
    let mut out = String::from("-----BEGIN SSH SIGNATURE-----\n");
    let chars: Vec<char> = b64.chars().collect();
    for chunk in chars.chunks(PEM_WIDTH) {
        out.extend(chunk);
        out.push('\n');
    }
    out.push_str("-----END SSH SIGNATURE-----\n");
    out
}

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature is not a valid sshsig blob")]
    Malformed,
    #[error("the signature was made by another key than the entry names")]
    WrongKey,
    #[error("the signature is for namespace '{0}', not '{NAMESPACE}'")]
    Namespace(String),
    #[error("the signature does not match the entry's bytes")]
    Mismatch,
}

/// Check a one-line base64 sshsig (as [`Reviewer::sign`] makes) over `msg`.
pub(crate) fn verify_signature(
    key: &PublicKey,
    msg: &[u8],
    b64: &str,
) -> Result<(), SignatureError> {
    if b64.is_empty()
        || !b64
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
    {
        return Err(SignatureError::Malformed);
    }
    let sig = SshSig::from_pem(armor_signature(b64)).map_err(|_| SignatureError::Malformed)?;
    if sig.public_key() != key.key_data() {
        return Err(SignatureError::WrongKey);
    }
    if sig.namespace() != NAMESPACE {
        return Err(SignatureError::Namespace(sig.namespace().to_string()));
    }
    key.verify(NAMESPACE, msg, &sig)
        .map_err(|_| SignatureError::Mismatch)
}
