//! Helpers for the ledger and approval tests: a workspace with two trusted
//! reviewers, hand-made items over real image files, and the `veil` binary
//! with a per-process reviewer identity (never the user's own ~/.ssh).
#![allow(dead_code)]

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use veil::item::{
    Attestation, GateEvidence, ITEM_FORMAT, Item, ItemState, MaskKind, MaskOrigin, PreviewSeen,
    Rect, ZoomCheck, item_id_for,
};
use veil::keys::{AllowedSigners, Reviewer};
use veil::ledger::{Entry, EntryKind, Ledger, VerifyReport};
use veil::trust::{Enrolment, Trust};
use veil::workspace::Workspace;

pub const NAME_A: &str = "Dr A. Reviewer";
pub const NAME_B: &str = "Dr B. Second";

pub const NAME_ADMIN: &str = "Test Administrator";
/// Lines an administrator's set-up takes: header, admin, policy, enrol A, enrol B.
pub const SETUP_LINES: usize = 5;

/// A scratch folder with a workspace `ws/` whose ledger has an
/// administrator (key `keys/admin`) who enrolled reviewers A and B (keys
/// in `keys/`).
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub ws: Workspace,
    pub admin: Reviewer,
    pub a: Reviewer,
    pub b: Reviewer,
}

/// The enrolment of `r` under its own principal.
pub fn enrolment(r: &Reviewer) -> Enrolment {
    Enrolment::of(r)
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let (ws, _) = Workspace::init(&dir.path().join("ws")).unwrap();
        std::fs::create_dir_all(dir.path().join("keys")).unwrap();
        std::fs::create_dir_all(dir.path().join("originals")).unwrap();
        let a = Reviewer::generate(NAME_A).unwrap();
        let b = Reviewer::generate(NAME_B).unwrap();
        let admin = Reviewer::generate(NAME_ADMIN).unwrap();
        a.write_key(&dir.path().join("keys/a")).unwrap();
        b.write_key(&dir.path().join("keys/b")).unwrap();
        admin.write_key(&dir.path().join("keys/admin")).unwrap();
        veil::admin::init(&ws, &admin).unwrap();
        veil::admin::enrol(&ws, &admin, enrolment(&a)).unwrap();
        veil::admin::enrol(&ws, &admin, enrolment(&b)).unwrap();
        Fixture {
            dir,
            ws,
            admin,
            a,
            b,
        }
    }

    /// Trust as the auditor holds it: the administrator's public key.
    pub fn anchored(&self) -> Trust {
        Trust {
            anchor: Some(veil::trust::Anchor::Admin {
                key: self.admin.public_key().clone(),
                signers: None,
            }),
            workspace_signers: self.signers().workspace_signers,
        }
    }

    /// Edit veil.toml with `edit`, reopen the workspace, and have the
    /// administrator record the new text as the policy in force.
    pub fn set_policy(&mut self, edit: impl Fn(&str) -> String) {
        let path = self.ws.root().join("veil.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, edit(&text)).unwrap();
        self.ws = Workspace::open(self.ws.root()).unwrap();
        veil::admin::record_policy(&self.ws, &self.admin).unwrap();
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `keys/a`, `keys/b`; `'x'` is the administrator's `keys/admin`.
    pub fn key_path(&self, who: char) -> PathBuf {
        match who {
            'x' => self.path().join("keys/admin"),
            _ => self.path().join(format!("keys/{who}")),
        }
    }

    /// Trust as the workspace alone gives it.
    pub fn signers(&self) -> Trust {
        Trust::workspace(AllowedSigners::parse(
            &std::fs::read_to_string(self.ws.allowed_signers_path()).unwrap_or_default(),
        ))
    }

    pub fn ledger_bytes(&self) -> Vec<u8> {
        std::fs::read(self.ws.ledger_path()).unwrap_or_default()
    }

    pub fn verify(&self) -> VerifyReport {
        veil::ledger::verify(&self.ledger_bytes(), &self.signers(), None)
    }

    /// Write a small PNG original (distinct per `n`) and queue it as an item
    /// in `state`, with `masks`; with `evidence`, every gate's evidence is
    /// recorded (zoom, preview, attestations), as the review screen would.
    pub fn add_item(
        &self,
        n: u8,
        masks: &[(MaskKind, Rect)],
        evidence: bool,
        state: ItemState,
    ) -> Item {
        let (w, h) = (64u32, 48u32);
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x * 4) as u8, (y * 5) as u8, n.wrapping_mul(37)])
        });
        let path = self
            .path()
            .join(format!("originals/photo-of-patient-{n}.png"));
        img.save_with_format(&path, image::ImageFormat::Png)
            .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let sha = hex::encode(Sha256::digest(&bytes));
        let mut item = Item {
            format_version: ITEM_FORMAT,
            id: item_id_for(&sha),
            source: path,
            duplicates: vec![],
            sha256: sha,
            size: bytes.len() as u64,
            format: "png".into(),
            width: w,
            height: h,
            orientation: 1,
            metadata: vec![veil::item::MetadataFinding {
                group: "PNG-text".into(),
                field: "tEXt:Author".into(),
                value: "Jane Patient".into(),
            }],
            detector: None,
            text_detector: None,
            dicom: None,
            masks: vec![],
            next_mask_id: 1,
            gates: GateEvidence::default(),
            state,
            high_stakes: false,
            failure: None,
            output: None,
            rejection: None,
            withdrawals: Vec::new(),
            ingested_at: format!("2025-01-01T00:00:{n:02}Z"),
        };
        for (kind, rect) in masks {
            item.add_mask(*kind, *rect, MaskOrigin::Manual);
        }
        if evidence {
            give_evidence(&mut item, &self.a);
        }
        self.ws.save_item(&item).unwrap();
        item
    }

    /// The `veil` binary with this workspace and reviewer `who` ('a' or 'b').
    pub fn veil(&self, who: char) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::cargo_bin("veil").unwrap();
        let name = if who == 'a' { NAME_A } else { NAME_B };
        cmd.env("VEIL_WORKSPACE", self.ws.root())
            .env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path().join("config"))
            .env("VEIL_REVIEWER_KEY", self.key_path(who))
            .env("VEIL_REVIEWER_NAME", name)
            .env("VEIL_ADMIN_KEY", self.key_path('x'))
            .env_remove("NO_COLOR");
        cmd
    }
}

/// Record every gate's evidence for the item's current masks, sealed by
/// `who`'s key as the review station seals what it measures.
pub fn give_evidence(item: &mut Item, who: &Reviewer) {
    let at = "2025-01-01T00:00:00Z";
    let seal = |target: String, zoom_pct: u32| {
        let msg = veil::item::evidence_message(&item.id, &item.sha256, &target, zoom_pct, at);
        Some(veil::item::Seal {
            key: who.public_openssh(),
            sig: who.sign(&msg).unwrap(),
        })
    };
    let seals: Vec<_> = item
        .masks
        .iter()
        .map(|m| seal(veil::item::mask_target(m), 200))
        .collect();
    let preview = seal(veil::item::preview_target(&item.masks_digest()), 0);
    for (m, s) in item.masks.iter_mut().zip(seals) {
        m.zoom_check = Some(ZoomCheck {
            zoom_pct: 200,
            at: at.into(),
            reviewer: Some(who.name.clone()),
            seal: s,
        });
    }
    item.gates.preview_seen = Some(PreviewSeen {
        masks_digest: item.masks_digest(),
        at: at.into(),
        seal: preview,
    });
    for g in veil::gates::Gate::ATTESTED {
        item.gates.attested.insert(
            g,
            Attestation {
                reviewer: who.name.clone(),
                at: at.into(),
            },
        );
    }
}

/// A face mask in the middle of the 64×48 test image.
pub fn face() -> (MaskKind, Rect) {
    (MaskKind::Face, Rect::new(20, 10, 16, 16))
}

/// A `reject` draft: the smallest entry that means something.
pub fn reject_draft(item: &str) -> Entry {
    let mut e = Entry::draft(EntryKind::Reject);
    e.item = Some(item.to_string());
    e.original_sha256 = Some("ab".repeat(32));
    e.reason = Some("test".into());
    e
}

/// Append `n` reject entries one at a time (one lock and fsync each).
pub fn append_rejects(path: &Path, who: &Reviewer, n: usize) {
    for i in 0..n {
        let mut l = Ledger::open(path).unwrap();
        l.append(who, vec![reject_draft(&format!("item{i}"))])
            .unwrap();
    }
}

/// Lines of a ledger, without newlines (a final partial line included).
pub fn lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
    if v.last().is_some_and(std::vec::Vec::is_empty) {
        v.pop();
    }
    v
}

pub fn join_lines(lines: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in lines {
        out.extend_from_slice(l);
        out.push(b'\n');
    }
    out
}

/// Findings of at least `Warning`, as text, for assertion messages.
pub fn problems(r: &VerifyReport) -> String {
    veil::ledger::describe(r)
}

/// Sign `e` as `who`, with its chain fields set from `prev_line` (the line
/// it claims to follow): what an insider holding a key can write.
pub fn sign_as(who: &Reviewer, mut e: Entry, prev_line: &[u8]) -> Vec<u8> {
    let before = veil::ledger::parse_line(prev_line).unwrap();
    e.v = veil::ledger::LEDGER_VERSION;
    e.ledger = before.ledger;
    e.seq = before.seq + 1;
    e.prev = veil::ledger::sha256_hex(prev_line);
    e.ts = veil::clock::now_ts();
    signed_line(who, e)
}

/// `e` as `who` signs it: its signer set to `who`, then the canonical line.
pub fn signed_line(who: &Reviewer, mut e: Entry) -> Vec<u8> {
    e.reviewer = veil::ledger::Signer {
        name: who.name.clone(),
        key: who.public_openssh(),
        fingerprint: who.fingerprint(),
    };
    e.sig.clear();
    e.sig = who.sign(&e.signed_bytes().unwrap()).unwrap();
    e.to_line().unwrap()
}

/// `bytes` with `e`, signed by `who`, appended after its last line.
pub fn forge_after(bytes: &[u8], who: &Reviewer, e: Entry) -> Vec<u8> {
    let l = lines(bytes);
    let mut out = bytes.to_vec();
    out.extend_from_slice(&sign_as(who, e, l.last().unwrap()));
    out.push(b'\n');
    out
}

/// Line `line` (1-based) of `bytes` edited by `edit` and re-signed by `who`,
/// keeping its own chain fields.
pub fn resign(bytes: &[u8], line: usize, who: &Reviewer, edit: impl FnOnce(&mut Entry)) -> Vec<u8> {
    let mut l = lines(bytes);
    let mut e = veil::ledger::parse_line(&l[line - 1]).unwrap();
    edit(&mut e);
    l[line - 1] = signed_line(who, e);
    join_lines(&l)
}

/// Assert a TAMPERED finding on `line` whose message contains `words`.
pub fn assert_tampered(r: &VerifyReport, line: usize, words: &str) {
    assert!(
        r.findings
            .iter()
            .any(|x| x.severity == veil::ledger::Severity::Tampered
                && x.line == line
                && x.message.contains(words)),
        "expected TAMPERED on line {line} mentioning '{words}', got:\n{}",
        problems(r)
    );
}

/// `python3 tests/oracles/check_ledger.py LEDGER TRUST`: (exit code, stdout).
pub fn oracle(ledger: &std::path::Path, trust: &std::path::Path) -> Option<(i32, String)> {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracles/check_ledger.py");
    let have = |c: &str, a: &str| std::process::Command::new(c).arg(a).output().is_ok();
    if !(have("python3", "--version") && have("ssh-keygen", "-?")) {
        eprintln!("SKIP: python3 or ssh-keygen (openssh-client) not installed");
        return None;
    }
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(ledger)
        .arg(trust)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).expect("the oracle prints UTF-8");
    assert!(
        !text.bytes().any(|b| b < 0x20 && b != b'\n'),
        "the oracle printed a raw control character:\n{text}"
    );
    Some((out.status.code().unwrap_or(-1), text))
}
