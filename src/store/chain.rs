//! The signed chain: every audit row written since the chart began signing (migration
//! `SIGNED_CHAIN`) carries an Ed25519 signature by the clinician it names, made with their
//! own key (unwrapped from the keyring by their passphrase) over the row's fields: its
//! sequence number, time, clinician, action, object, the SHA-256 of the row it records and
//! the hash of the row before it. So a row's content and its place in the chain are both
//! signed by its author, and an insider who can open the chart (and so recompute every
//! hash, whose key is chart data) cannot rewrite another clinician's row, nor any row
//! before one, without a signature they cannot make.
//!
//! `verify` checks every signature against the key the team recorded (and certified) for
//! the row's clinician, in batches on a second thread (`ed25519-dalek`'s batch
//! verification), and names the first row that fails.

use super::audit::AuditFields;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use std::collections::HashMap;
use std::sync::mpsc;

/// The first line of every signed audit row's message: the rest is the row's fields as its
/// hash covers them (`AuditFields::text`).
pub const ROW_MESSAGE_V1: &[u8] = b"kapchart audit row v1\n";

/// The bytes an audit row's signature covers.
pub fn row_message(fields: &AuditFields<'_>) -> Vec<u8> {
    let text = fields.text();
    let mut m = Vec::with_capacity(ROW_MESSAGE_V1.len() + text.len());
    m.extend_from_slice(ROW_MESSAGE_V1);
    m.extend_from_slice(text.as_bytes());
    m
}

/// Signs an audit row's fields.
pub fn sign_row(key: &SigningKey, fields: &AuditFields<'_>) -> [u8; 64] {
    key.sign(&row_message(fields)).to_bytes()
}

/// What the team recorded about one clinician's signing key, for checking their rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberKey {
    pub name: String,
    pub key: VerifyingKey,
    /// Whether their keys are certified back to the root (or were recorded before kapchart
    /// certified keys); rows signed with an uncertified key do not verify.
    pub trusted: bool,
    /// The audit row of their removal, once removed: rows they sign after it are refused.
    pub removed_at_seq: Option<i64>,
}

/// The keys rows are checked against, by clinician id.
pub type TeamKeys = HashMap<i64, MemberKey>;

/// One signed row waiting for its check.
struct Pending {
    seq: i64,
    what: String,
    message: Vec<u8>,
    signature: Signature,
    key: VerifyingKey,
}

/// How many rows go to the checking thread at once: enough for batch verification to pay
/// (about half the time of one by one), small enough that memory stays flat.
const BATCH: usize = 512;

/// Checks signatures on a second thread while the caller walks the chain: rows go in with
/// [`Verifier::push`], the first that fails comes out of [`Verifier::finish`].
pub struct Verifier {
    batch: Vec<Pending>,
    to_worker: Option<mpsc::SyncSender<Vec<Pending>>>,
    worker: Option<std::thread::JoinHandle<Option<(i64, String)>>>,
    /// A problem found without a signature check (no key, a removed signer, a row unsigned).
    found: Option<(i64, String)>,
    pub checked: u64,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier::new()
    }
}

impl Verifier {
    /// A verifier with no second thread yet: one is started when the first full batch is
    /// ready, so that a short walk (the check on open, a few rows) pays no thread.
    pub fn new() -> Verifier {
        Verifier {
            batch: Vec::with_capacity(BATCH),
            to_worker: None,
            worker: None,
            found: None,
            checked: 0,
        }
    }

    fn start_worker(&mut self) {
        let (to_worker, from_walk) = mpsc::sync_channel::<Vec<Pending>>(4);
        let worker = std::thread::Builder::new()
            .name("kapchart-verify".into())
            .spawn(move || {
                let mut first: Option<(i64, String)> = None;
                for batch in from_walk {
                    if let Some(bad) = check_batch(&batch)
                        && first.as_ref().is_none_or(|(seq, _)| bad.0 < *seq)
                    {
                        first = Some(bad);
                    }
                }
                first
            })
            .ok();
        if worker.is_some() {
            self.to_worker = Some(to_worker);
            self.worker = worker;
        }
    }

    /// A row that fails without any signature to check (its clinician has no key, it is
    /// unsigned, it was signed after its signer's removal).
    pub fn fail(&mut self, seq: i64, why: String) {
        if self.found.as_ref().is_none_or(|(s, _)| seq < *s) {
            self.found = Some((seq, why));
        }
    }

    /// Queues the row `seq` (described as `what`) for its signature check: `signature` over
    /// `fields` by the clinician's recorded key.
    pub fn push(
        &mut self,
        seq: i64,
        what: impl FnOnce() -> String,
        fields: &AuditFields<'_>,
        signature: &[u8],
        member: &MemberKey,
    ) {
        let Ok(signature) = Signature::from_slice(signature) else {
            self.fail(seq, format!("{}: its signature is not 64 bytes", what()));
            return;
        };
        self.checked += 1;
        self.batch.push(Pending {
            seq,
            what: what(),
            message: row_message(fields),
            signature,
            key: member.key,
        });
        if self.batch.len() >= BATCH {
            if self.worker.is_none() {
                self.start_worker();
            }
            self.send();
        }
    }

    fn send(&mut self) {
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        match &self.to_worker {
            Some(tx) => {
                if let Err(mpsc::SendError(batch)) = tx.send(batch)
                    && let Some(bad) = check_batch(&batch)
                {
                    self.fail(bad.0, bad.1);
                }
            }
            // No second thread could be started: checked here.
            None => {
                if let Some(bad) = check_batch(&batch) {
                    self.fail(bad.0, bad.1);
                }
            }
        }
    }

    /// Waits for every queued check; the first row (lowest sequence number) that failed.
    pub fn finish(mut self) -> Option<(i64, String)> {
        if !self.batch.is_empty() {
            self.send();
        }
        drop(self.to_worker.take());
        if let Some(worker) = self.worker.take()
            && let Ok(Some(bad)) = worker.join()
        {
            self.fail(bad.0, bad.1);
        }
        self.found
    }
}

/// The first row of `batch` whose signature does not verify: all at once first (batch
/// verification), one by one only when the batch fails, to name the row.
fn check_batch(batch: &[Pending]) -> Option<(i64, String)> {
    if batch.is_empty() {
        return None;
    }
    let messages: Vec<&[u8]> = batch.iter().map(|p| p.message.as_slice()).collect();
    let signatures: Vec<Signature> = batch.iter().map(|p| p.signature).collect();
    let keys: Vec<VerifyingKey> = batch.iter().map(|p| p.key).collect();
    if ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok() {
        return None;
    }
    batch
        .iter()
        .find(|p| p.key.verify_strict(&p.message, &p.signature).is_err())
        .map(|p| {
            (
                p.seq,
                format!(
                    "{}: its signature does not verify with its author's recorded key (changed after it was signed, or signed by someone else)",
                    p.what
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(seq: i64, action: &'a str) -> AuditFields<'a> {
        AuditFields {
            seq,
            at_ms: 1_000 + seq,
            clinician_id: Some(1),
            action,
            object_kind: "entry",
            object_id: seq,
            content_hash: "00",
            prev_hash: "11",
        }
    }

    #[test]
    fn the_first_bad_signature_is_named_across_batches() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let member = MemberKey {
            name: "Dr. Test".into(),
            key: key.verifying_key(),
            trusted: true,
            removed_at_seq: None,
        };
        let mut v = Verifier::new();
        for seq in 1..=(3 * BATCH as i64) {
            let f = fields(seq, "entry.add");
            let mut sig = sign_row(&key, &f);
            if seq == 700 || seq == 1200 {
                sig = sign_row(&key, &fields(seq, "entry.amend"));
            }
            v.push(seq, || format!("row {seq}"), &f, &sig, &member);
        }
        let bad = v.finish().expect("found");
        assert_eq!(bad.0, 700);
        assert!(bad.1.contains("row 700"), "{}", bad.1);

        let mut v = Verifier::new();
        let f = fields(1, "entry.add");
        v.push(1, || "row 1".into(), &f, &sign_row(&key, &f), &member);
        assert_eq!(v.finish(), None);
    }
}
