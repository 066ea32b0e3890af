//! Helpers shared by the integration tests: sample photos, their expected
//! facts, a scratch workspace, and the `veil` binary.
#![allow(dead_code)]

pub mod enrol;

use assert_cmd::Command;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The good sample photos (each with planted metadata).
pub const GOOD_SAMPLES: [&str; 6] = [
    "portrait_gps.jpg",
    "rotated6.jpg",
    "trailer.jpg",
    "no_face.png",
    "clean.webp",
    "scan.tiff",
];

pub fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples")
}

/// tests/samples/expected.json.
pub fn expected() -> Value {
    let text = std::fs::read_to_string(samples_dir().join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A scratch folder holding `originals/` (copies of the named samples) and
/// a workspace `ws/`.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new(samples: &[&str]) -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        let originals = dir.path().join("originals");
        std::fs::create_dir_all(&originals).unwrap();
        for s in samples {
            let name = Path::new(s).file_name().unwrap();
            std::fs::copy(samples_dir().join(s), originals.join(name)).unwrap();
        }
        Scratch { dir }
    }
    pub fn originals(&self) -> PathBuf {
        self.dir.path().join("originals")
    }
    pub fn ws(&self) -> PathBuf {
        self.dir.path().join("ws")
    }
    /// `veil --workspace ws ARGS...` with a private HOME and config dir.
    pub fn veil(&self) -> Command {
        Command::from_std(self.veil_std())
    }
    /// [`Scratch::veil`] as a plain `std::process::Command`.
    pub fn veil_std(&self) -> std::process::Command {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("veil"));
        c.arg("--workspace").arg(self.ws());
        c.env("HOME", self.dir.path().join("home"));
        c.env("XDG_CONFIG_HOME", self.dir.path().join("home/.config"));
        c.env_remove("VEIL_WORKSPACE");
        c.env_remove("VEIL_REVIEWER_KEY");
        c.env_remove("VEIL_REVIEWER_NAME");
        c.env("NO_COLOR", "1");
        c
    }
    /// `veil ingest --json FOLDER`: the process's output and its JSON report.
    pub fn ingest_json(&self, folder: &Path) -> (std::process::Output, Value) {
        let out = self
            .veil()
            .args(["ingest", "--json"])
            .arg(folder)
            .output()
            .unwrap();
        let report = serde_json::from_slice(&out.stdout).unwrap();
        (out, report)
    }
    /// Enrol reviewer `name` here through the command line (see [`enrol::enrol`]).
    pub fn enrol(&self, name: &str) {
        let run = |args: &[&str]| self.veil().args(args).output().unwrap();
        enrol::enrol(
            &run,
            &self.dir.path().join("home/.config"),
            &self.ws(),
            name,
        );
    }

    /// SHA-256 of every file under originals/.
    pub fn originals_digest(&self) -> BTreeMap<PathBuf, String> {
        let mut out = BTreeMap::new();
        for e in walkdir::WalkDir::new(self.originals()) {
            let e = e.unwrap();
            if e.file_type().is_file() {
                let bytes = std::fs::read(e.path()).unwrap();
                out.insert(e.path().to_path_buf(), hex::encode(Sha256::digest(bytes)));
            }
        }
        out
    }
    /// Every item file, parsed.
    pub fn items(&self) -> Vec<Value> {
        let mut v: Vec<Value> = std::fs::read_dir(self.ws().join("items"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
            .collect();
        v.sort_by_key(|i| i["source"].as_str().unwrap_or("").to_string());
        v
    }
    /// `veil render` of the item whose source is named `name`, to
    /// `<scratch>/<id>.jpg`; the output's path.
    pub fn render(&self, name: &str) -> PathBuf {
        let id = self.item(name)["id"].as_str().unwrap().to_string();
        let out = self.dir.path().join(format!("{id}.jpg"));
        self.veil()
            .args(["render", &id, "--out"])
            .arg(&out)
            .assert()
            .success();
        out
    }
    /// The item whose source file is named `name`.
    pub fn item(&self, name: &str) -> Value {
        self.items()
            .into_iter()
            .find(|i| i["source"].as_str().is_some_and(|s| s.ends_with(name)))
            .unwrap_or_else(|| panic!("no item for {name}"))
    }
}

/// Intersection over union of two `{x,y,w,h}` boxes.
pub fn iou(a: &Value, b: &Value) -> f64 {
    let f = |v: &Value, k: &str| v[k].as_f64().unwrap();
    let (ax0, ay0, ax1, ay1) = (
        f(a, "x"),
        f(a, "y"),
        f(a, "x") + f(a, "w"),
        f(a, "y") + f(a, "h"),
    );
    let (bx0, by0, bx1, by1) = (
        f(b, "x"),
        f(b, "y"),
        f(b, "x") + f(b, "w"),
        f(b, "y") + f(b, "h"),
    );
    let iw = (ax1.min(bx1) - ax0.max(bx0)).max(0.0);
    let ih = (ay1.min(by1) - ay0.max(by0)).max(0.0);
    let inter = iw * ih;
    inter / ((ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter)
}

/// True when box `outer` covers all of box `inner`.
pub fn covers(outer: &Value, inner: &Value) -> bool {
    let f = |v: &Value, k: &str| v[k].as_i64().unwrap();
    f(outer, "x") <= f(inner, "x")
        && f(outer, "y") <= f(inner, "y")
        && f(outer, "x") + f(outer, "w") >= f(inner, "x") + f(inner, "w")
        && f(outer, "y") + f(outer, "h") >= f(inner, "y") + f(inner, "h")
}

/// Every tag `exiftool -a -G1` reads from `file` outside the groups a
/// metadata-free output has (its own, the file system's, File, JFIF).
pub fn exiftool_tags_beyond_jfif(exiftool: &str, file: &Path) -> Vec<String> {
    let o = std::process::Command::new(exiftool)
        .args(["-a", "-G1", "-s", "-j"])
        .arg(file)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v[0].as_object()
        .unwrap()
        .keys()
        .filter(|key| {
            !matches!(
                key.split(':').next().unwrap(),
                "SourceFile" | "ExifTool" | "System" | "File" | "JFIF" | "Composite"
            )
        })
        .cloned()
        .collect()
}

/// `exiftool` on PATH, or a message saying the oracle test is skipped.
pub fn exiftool() -> Option<&'static str> {
    let ok = std::process::Command::new("exiftool")
        .arg("-ver")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIP: exiftool not installed (Debian: libimage-exiftool-perl)");
    }
    ok.then_some("exiftool")
}

/// Run `cmd` and measure its peak resident memory in bytes, as the benches
/// do: from a small Python parent, so the figure is the child's own and not
/// this (multi-threaded, larger) test process's. `None` without python3.
pub fn peak_rss(std_cmd: &std::process::Command) -> Option<(bool, u64, String)> {
    let script = "import resource, subprocess, sys\n\
r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n\
sys.stderr.write(r.stdout + r.stderr)\n\
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024, int(r.returncode == 0))\n";
    let mut py = std::process::Command::new("python3");
    py.arg("-c").arg(script).arg(std_cmd.get_program());
    py.args(std_cmd.get_args());
    for (k, v) in std_cmd.get_envs() {
        match v {
            Some(v) => py.env(k, v),
            None => py.env_remove(k),
        };
    }
    let out = py.output().ok()?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut fields = stdout.split_whitespace();
    let bytes = fields.next()?.parse().ok()?;
    let ok = fields.next()? == "1";
    Some((ok, bytes, String::from_utf8_lossy(&out.stderr).into_owned()))
}

pub fn mean_abs_diff(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let total: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    total as f64 / a.as_raw().len() as f64
}
