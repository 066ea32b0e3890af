//! Helpers for the fault tests: a workspace with a fast policy (no face
//! detector, measured gates off so `--attest` is enough to approve), a
//! reviewer, originals, a small tmpfs, and one check that the workspace
//! is consistent whatever was interrupted.
#![allow(dead_code)]

#[path = "../common/enrol.rs"]
mod enrol;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use veil::item::ItemState;
use veil::ledger;
use veil::workspace::Workspace;

/// The gates a reviewer attests on the command line.
pub const ATTEST: &str = "--attest=reflections,edges,identifiers";

/// A scratch folder: `home/` (the reviewer's key), `originals/`, and the
/// workspace at `ws` (which may live elsewhere, e.g. on a tmpfs).
pub struct Bench {
    pub dir: tempfile::TempDir,
    pub ws: PathBuf,
}

impl Bench {
    /// A workspace at `ws` (default: inside the scratch folder), initialised
    /// with the fast policy and a trusted reviewer.
    pub fn new(ws: Option<PathBuf>) -> Bench {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("originals")).unwrap();
        let ws = ws.unwrap_or_else(|| dir.path().join("ws"));
        let b = Bench { dir, ws };
        assert!(b.veil().arg("init").output().unwrap().status.success());
        fast_policy(&b.ws);
        let run = |args: &[&str]| b.veil().args(args).output().unwrap();
        enrol::enrol(&run, &b.dir.path().join("home/config"), &b.ws, "Dr F. Ault");
        b
    }

    pub fn originals(&self) -> PathBuf {
        self.dir.path().join("originals")
    }

    /// `veil --workspace ws` with this bench's private HOME.
    pub fn veil(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_veil"));
        c.arg("--workspace").arg(&self.ws);
        let home = self.dir.path().join("home");
        c.env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("NO_COLOR", "1")
            .env_remove("VEIL_WORKSPACE")
            .env_remove("VEIL_REVIEWER_KEY")
            .env_remove("VEIL_REVIEWER_NAME");
        c
    }

    /// Run `veil ARGS`: (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.veil().args(args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    pub fn open(&self) -> Workspace {
        Workspace::open(&self.ws).unwrap()
    }
}

/// No face detector (fast), and only the gates that need no review screen.
pub fn fast_policy(ws: &Path) {
    let path = ws.join("veil.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with("engine = ") {
                "engine = \"none\"".to_string()
            } else if l.starts_with("required = ") {
                "required = [\"metadata\", \"reflections\", \"edges\", \"identifiers\"]".to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&path, text.join("\n") + "\n").unwrap();
}

/// `n` tiny distinct PNGs (64×48) in `dir`.
pub fn tiny_originals(dir: &Path, n: u8) {
    for i in 0..n {
        let img = image::RgbImage::from_fn(64, 48, |x, y| {
            image::Rgb([(x * 4) as u8, (y * 5) as u8, i.wrapping_mul(37)])
        });
        img.save_with_format(
            dir.join(format!("tiny-{i:02}.png")),
            image::ImageFormat::Png,
        )
        .unwrap();
    }
}

/// `copies` of each sample photo in `dir`, each with a byte appended so
/// every file is distinct (a distinct item). Returns how many.
pub fn sample_copies(dir: &Path, copies: u8) -> usize {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples");
    let names = [
        "portrait_gps.jpg",
        "rotated6.jpg",
        "trailer.jpg",
        "no_face.png",
        "clean.webp",
    ];
    let mut n = 0;
    for c in 0..copies {
        for name in names {
            let mut bytes = std::fs::read(samples.join(name)).unwrap();
            bytes.push(c);
            std::fs::write(dir.join(format!("{c:02}-{name}")), bytes).unwrap();
            n += 1;
        }
    }
    n
}

/// What a consistent workspace holds.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Item files (every one parses).
    pub items: usize,
    pub approved: usize,
    /// Released outputs in `out/` (certificates and hidden files aside).
    pub outputs: usize,
    /// Hidden `.veil-tmp-*` files an interrupted write left behind.
    pub stray_temps: usize,
}

/// Assert everything a crash or a full disk must never break, and count.
/// - every item file parses (no half-written JSON), and temp files are not items;
/// - every release in the ledger has its output in `out/` with that SHA-256,
///   and no item is released twice;
/// - every item marked approved has its output and its ledger entry;
/// - `veil verify` finds no tampering (warnings allowed: an interrupted
///   approval leaves an unrecorded output, which it names).
pub fn check_consistent(b: &Bench) -> Tally {
    let ws = b.open();
    let mut t = Tally::default();
    for dir in [ws.items_dir(), ws.out_dir()] {
        for e in std::fs::read_dir(&dir).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            if name.starts_with(".veil-tmp-") {
                t.stray_temps += 1;
            }
        }
    }
    let ids = ws.item_ids().unwrap();
    let (items, problems) = ws.items().unwrap();
    assert!(problems.is_empty(), "unreadable item files: {problems:?}");
    assert_eq!(items.len(), ids.len());
    t.items = items.len();

    let bytes = std::fs::read(ws.ledger_path()).unwrap_or_default();
    let mut released: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for l in ledger::entries(&bytes) {
        if l.entry.releases() {
            let id = l.entry.item.clone().unwrap_or_default();
            let name = l.entry.output_name.clone().unwrap_or_default();
            let sha = l.entry.output_sha256.clone().unwrap_or_default();
            let on_disk = std::fs::read(ws.out_dir().join(&name))
                .map(|b| ledger::sha256_hex(&b))
                .unwrap_or_default();
            assert_eq!(
                on_disk, sha,
                "ledger line {} releases out/{name} for item {id}, but that file is missing or different",
                l.line
            );
            released.entry(id).or_default().push((name, sha));
        }
    }
    for (id, rels) in &released {
        assert_eq!(rels.len(), 1, "item {id} released more than once: {rels:?}");
    }
    for item in &items {
        if item.state == ItemState::Approved {
            t.approved += 1;
            let out = item
                .output
                .as_ref()
                .expect("approved item names its output");
            let rel = released.get(&item.id).and_then(|r| r.first());
            assert_eq!(
                rel,
                Some(&(out.name.clone(), out.sha256.clone())),
                "item {} is approved without a ledger entry releasing its output",
                item.id
            );
        }
    }
    for e in std::fs::read_dir(ws.out_dir()).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && !name.ends_with(ledger::CERTIFICATE_SUFFIX) {
            t.outputs += 1;
        }
    }
    let (code, out, err) = b.run(&["verify"]);
    assert!(code == 0 || code == 4, "verify exit {code}:\n{out}\n{err}");
    t
}

/// A tmpfs mounted for one test, unmounted when dropped (even on panic).
pub struct Tmpfs {
    pub path: PathBuf,
}

impl Tmpfs {
    /// Mount a tmpfs of `size` (e.g. "4m") at `path`; `None` (after printing
    /// "SKIP: ..." to stderr) where mounting is not allowed.
    pub fn mount(path: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(path).unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(path)
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs {
                path: path.to_path_buf(),
            }),
            Ok(o) => {
                eprintln!(
                    "SKIP: cannot mount a tmpfs here (needs root): {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("SKIP: cannot run mount: {e}");
                None
            }
        }
    }

    /// Fill the filesystem, then give back `leave` bytes.
    pub fn fill_leaving(&self, leave: u64) {
        let path = self.path.join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let chunk = vec![0x5a_u8; 64 * 1024];
        let mut written: u64 = 0;
        loop {
            match f.write(&chunk) {
                Ok(0) => break,
                Ok(n) => written += n as u64,
                Err(_) => break,
            }
        }
        f.set_len(written.saturating_sub(leave)).unwrap();
    }

    /// Give all the filler back.
    pub fn free(&self) {
        let _ = std::fs::remove_file(self.path.join("filler"));
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.path)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            // Something still has a file open there: detach it anyway.
            let _ = Command::new("umount").arg("-l").arg(&self.path).status();
        }
    }
}
