//! The real `veil review` binary driven in tmux, the way an operator uses
//! it: open the demo workspace, verify every mask with `z` and `Tab`, look
//! at the mobile preview, tick the attested gates, approve, quit; then
//! `veil verify` passes and the output exists. Skipped (with a note on
//! stderr) when tmux is not installed.

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test is one scenario read top to bottom; the complexity caps are for the library.
#![allow(clippy::cognitive_complexity, clippy::too_many_lines)]

#[path = "common/enrol.rs"]
mod enrol;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const VEIL: &str = env!("CARGO_BIN_EXE_veil");

fn tmux_available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A private tmux server, killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn cmd(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("run tmux")
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            let out = self.cmd(&["send-keys", "-t", "e2e", k]);
            assert!(out.status.success(), "send-keys {k}: {out:?}");
            std::thread::sleep(Duration::from_millis(120));
        }
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "e2e"]).stdout).into_owned()
    }

    /// Wait until the screen shows `text`.
    fn wait_for(&self, text: &str, secs: u64) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(secs),
                "'{text}' never appeared; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

struct Env {
    _dir: tempfile::TempDir,
    ws: PathBuf,
    home: PathBuf,
}

impl Env {
    fn veil(&self, args: &[&str]) -> Output {
        Command::new(VEIL)
            .arg("--workspace")
            .arg(&self.ws)
            .args(args)
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env_remove("VEIL_REVIEWER_KEY")
            .env_remove("VEIL_REVIEWER_NAME")
            .env_remove("VEIL_WORKSPACE")
            .output()
            .expect("run veil")
    }

    fn item(&self, id: &str) -> Value {
        let path = self.ws.join("items").join(format!("{id}.json"));
        // The item file is replaced atomically: a read sees one version or the other.
        std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null)
    }

    /// Wait until `pred` holds for the item file.
    fn wait_item(&self, id: &str, secs: u64, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let v = self.item(id);
            if pred(&v) {
                return v;
            }
            assert!(
                start.elapsed() < Duration::from_secs(secs),
                "{what} never happened; item:\n{v:#}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A pending demo item with masks that is not high-stakes (a second
/// reviewer would be needed to release it).
fn pick_item(ws: &Path) -> String {
    let mut best: Option<(usize, String)> = None;
    for entry in std::fs::read_dir(ws.join("items")).expect("items folder") {
        let Ok(entry) = entry else { continue };
        let Ok(bytes) = std::fs::read(entry.path()) else {
            continue;
        };
        let Ok(v) = serde_json::from_slice::<Value>(&bytes) else {
            continue;
        };
        let masks = v["masks"].as_array().map_or(0, std::vec::Vec::len);
        let tattoo = v["masks"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["kind"] == "tattoo"));
        if v["state"] == "pending" && v["high_stakes"] != true && !tattoo && masks > 0 {
            let id = v["id"].as_str().unwrap_or_default().to_string();
            if best.as_ref().is_none_or(|(n, _)| masks > *n) {
                best = Some((masks, id));
            }
        }
    }
    best.map(|(_, id)| id)
        .expect("a pending demo item with masks")
}

/// The demo workspace with a reviewer identity, or `None` (and a note) when
/// tmux is missing.
fn demo_env(test: &str) -> Option<Env> {
    if !tmux_available() {
        eprintln!("tui_e2e: tmux is not installed; skipping {test}");
        return None;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let env = Env {
        ws: dir.path().join("ws"),
        home: dir.path().join("home"),
        _dir: dir,
    };
    std::fs::create_dir_all(&env.home).expect("home");
    ok(&env.veil(&["demo", "--no-review"]), "veil demo --no-review");
    let run = |args: &[&str]| env.veil(args);
    enrol::enrol(&run, &env.home.join(".config"), &env.ws, "E2E Reviewer");
    Some(env)
}

/// `veil review` on item `id` in a new tmux server, then `after` in the
/// same shell; returns once the item's picture is on screen.
fn start_review(env: &Env, id: &str, after: &str, name: &str) -> Tmux {
    start_review_with(env, id, after, name, "halfblocks")
}

/// [`start_review`] with `--graphics CHOICE`.
fn start_review_with(env: &Env, id: &str, after: &str, name: &str, graphics: &str) -> Tmux {
    let tmux = Tmux {
        socket: format!("veil-e2e-{name}-{}", std::process::id()),
    };
    let command = format!(
        "env HOME='{home}' XDG_CONFIG_HOME='{home}/.config' TERM=xterm-256color '{VEIL}' \
         --workspace '{ws}' review --graphics {graphics} {id}; echo VEIL-EXIT=$?; {after}; sleep 60",
        home = env.home.display(),
        ws = env.ws.display(),
    );
    let out = tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        "e2e",
        "-x",
        "160",
        "-y",
        "48",
        &command,
    ]);
    ok(&out, "tmux new-session");
    tmux.wait_for(&format!("{} ·", &id[..8]), 20);
    tmux.wait_for("IMAGE", 20);
    tmux
}

/// Verify mask `i` with `z` (more than one `z` when the mask is larger than
/// the view at the minimum zoom).
fn verify_mask(tmux: &Tmux, env: &Env, id: &str, i: usize) {
    let start = Instant::now();
    loop {
        tmux.keys(&["z"]);
        std::thread::sleep(Duration::from_millis(400));
        if !env.item(id)["masks"][i]["zoom_check"].is_null() {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "mask {i} never verified; screen:\n{}",
            tmux.screen()
        );
    }
}

#[test]
fn an_operator_verifies_previews_attests_and_approves_a_demo_photo_in_tmux() {
    let Some(env) = demo_env("the end-to-end review test") else {
        return;
    };
    let id = pick_item(&env.ws);
    let masks = env.item(&id)["masks"]
        .as_array()
        .map_or(0, std::vec::Vec::len);
    let tmux = start_review(&env, &id, "true", "approve");

    // The photo with the most masks is the astronaut: her face, and the
    // text detector's proposals (the name badge among them), with the
    // identifiers line saying so.
    let texts = env.item(&id)["masks"].as_array().map_or(0, |m| {
        m.iter().filter(|m| m["kind"] == "identifier").count()
    });
    assert!(texts > 0, "text proposals in {}", env.item(&id));
    let screen = tmux.wait_for(&format!("text: {texts} proposed,"), 10);
    assert!(screen.contains("not seen at 2.0x"), "{screen}");

    // Verify every mask: z shows it at the minimum zoom; a mask larger than
    // the view at that zoom takes one z per part.
    for i in 0..masks {
        verify_mask(&tmux, &env, &id, i);
        if env.item(&id)["masks"][i]["kind"] == "identifier" {
            let screen = tmux.screen();
            assert!(screen.contains("identifier · ppocr-v4"), "{screen}");
        }
        tmux.keys(&["Tab"]);
    }
    let screen = tmux.wait_for("all masks seen at minimum zoom", 10);
    assert!(screen.contains("zoom 2.0x"), "{screen}");
    tmux.wait_for(&format!("text: {texts} proposed, all seen"), 10);

    // The mobile preview renders the real output: preview and metadata gates.
    tmux.keys(&["m"]);
    env.wait_item(&id, 120, "the preview being recorded", |v| {
        !v["gates"]["preview_seen"].is_null() && !v["gates"]["output_check"].is_null()
    });
    tmux.wait_for("passed the allowlist", 20);
    tmux.keys(&["Escape"]);

    // Attest the three reviewer gates.
    tmux.keys(&["1", "2", "3"]);
    env.wait_item(&id, 10, "the attestations", |v| {
        v["gates"]["attested"]
            .as_object()
            .map_or(0, serde_json::Map::len)
            == 3
    });
    tmux.wait_for("ready to approve", 10);

    // Approve: signed ledger entry, output released.
    tmux.keys(&["A"]);
    let screen = tmux.wait_for("Released", 120);
    assert!(screen.contains("out/"), "{screen}");
    tmux.keys(&["Escape", "q"]);
    tmux.wait_for("VEIL-EXIT=0", 20);

    let item = env.item(&id);
    assert_eq!(item["state"], "approved");
    let name = item["output"]["name"].as_str().expect("an output name");
    assert!(
        env.ws.join("out").join(name).is_file(),
        "out/{name} missing"
    );
    ok(&env.veil(&["verify"]), "veil verify");
}

/// The README's "Try it" section.
fn try_it() -> String {
    let readme = include_str!("../README.md");
    let start = readme.find("## Try it").expect("a Try it section");
    let rest = &readme[start + 2..];
    let end = rest.find("\n## ").map_or(rest.len(), |e| e + 2);
    readme[start..start + end].to_string()
}

/// The keys its numbered steps name, in order, as tmux spells them.
fn try_it_keys(section: &str) -> Vec<String> {
    let mut keys = Vec::new();
    for line in section.lines() {
        let step = line.trim_start();
        if step
            .split_once(". ")
            .is_none_or(|(n, _)| n.parse::<u32>().is_err())
        {
            continue;
        }
        for (k, token) in step.split('`').enumerate() {
            if k % 2 == 0 {
                continue;
            }
            match token {
                "Esc" => keys.push("Escape".to_string()),
                "Tab" => keys.push("Tab".to_string()),
                t if t.chars().count() == 1 => keys.push(t.to_string()),
                _ => {} // a path, not a key
            }
        }
    }
    keys
}

#[test]
fn a_newcomer_follows_the_readme_try_it_word_for_word_through_approval_and_verify() {
    if !tmux_available() {
        eprintln!("tui_e2e: tmux is not installed; skipping the README walk-through");
        return;
    }
    let section = try_it();
    // The commands it gives, run here with the built binary standing in
    // for `cargo run --release --`.
    for line in [
        "cargo run --release -- demo",
        "cd veil-demo",
        "cargo run --release -- verify",
    ] {
        assert!(section.contains(line), "the README no longer says `{line}`");
    }
    let keys = try_it_keys(&section);
    assert_eq!(
        keys,
        ["m", "Escape", "1", "2", "3", "A", "Escape", "q"],
        "the README's steps changed: change this walk-through with them"
    );

    // A new user: an empty home (no reviewer key), a fresh folder.
    let dir = tempfile::tempdir().expect("temp dir");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let tmux = Tmux {
        socket: format!("veil-e2e-readme-{}", std::process::id()),
    };
    let command = format!(
        "cd '{cwd}' && env -u VEIL_WORKSPACE -u VEIL_REVIEWER_KEY -u VEIL_REVIEWER_NAME \
         HOME='{home}' XDG_CONFIG_HOME='{home}/.config' TERM=xterm-256color '{VEIL}' demo; \
         echo VEIL-EXIT=$?; sleep 60",
        cwd = dir.path().display(),
        home = home.display(),
    );
    ok(
        &tmux.cmd(&[
            "new-session",
            "-d",
            "-s",
            "e2e",
            "-x",
            "160",
            "-y",
            "48",
            &command,
        ]),
        "tmux new-session",
    );
    tmux.wait_for("IMAGE", 60);
    let ws = dir.path().join("veil-demo");
    let env = Env {
        ws: ws.clone(),
        home: home.clone(),
        _dir: tempfile::tempdir().expect("temp dir"),
    };
    let first = tmux
        .screen()
        .lines()
        .find_map(|l| {
            l.split_once('▸')
                .map(|(_, r)| r.split_whitespace().nth(1).map(String::from))
        })
        .flatten()
        .expect("the selected queue row");
    let id = std::fs::read_dir(ws.join("items"))
        .expect("items")
        .filter_map(std::result::Result::ok)
        .map(|e| {
            e.file_name()
                .to_string_lossy()
                .trim_end_matches(".json")
                .to_string()
        })
        .find(|n| n.starts_with(&first))
        .expect("the first item's file");
    for key in &keys {
        tmux.keys(&[key.as_str()]);
        match key.as_str() {
            "m" => {
                env.wait_item(&id, 120, "the preview being recorded", |v| {
                    !v["gates"]["output_check"].is_null()
                });
                tmux.wait_for("passed the allowlist", 20);
            }
            "3" => {
                env.wait_item(&id, 10, "the attestations", |v| {
                    v["gates"]["attested"]
                        .as_object()
                        .map_or(0, serde_json::Map::len)
                        == 3
                });
                // With no key of their own, the demo's reviewer signs.
                tmux.wait_for("attested by Demo Reviewer (demo only)", 10);
            }
            "A" => {
                tmux.wait_for("Released", 120);
            }
            _ => {}
        }
    }
    // After the station closes, the demo says where its workspace is and
    // what to run inside it.
    let screen = tmux.wait_for("VEIL-EXIT=0", 20);
    assert!(screen.contains("cd veil-demo"), "{screen}");
    assert!(screen.contains("veil verify"), "{screen}");
    assert_eq!(env.item(&id)["state"], "approved");

    // `cd veil-demo`, then verify with no --workspace: found from inside.
    let verify = Command::new(VEIL)
        .arg("verify")
        .current_dir(&ws)
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env_remove("VEIL_WORKSPACE")
        .env_remove("VEIL_REVIEWER_KEY")
        .env_remove("VEIL_REVIEWER_NAME")
        .output()
        .expect("run veil verify");
    ok(&verify, "veil verify inside veil-demo");
    let said = String::from_utf8_lossy(&verify.stdout);
    assert!(said.contains("1 output(s) released"), "{said}");
}

/// The process whose parent is `parent` (Linux `/proc`).
#[cfg(target_os = "linux")]
fn child_of(parent: u32) -> Option<i32> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: i32 = e.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
        // pid (comm) state ppid …; comm may hold spaces and parentheses.
        let ppid: u32 = stat
            .rsplit_once(')')?
            .1
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        (ppid == parent).then_some(pid)
    })
}

#[cfg(target_os = "linux")]
#[test]
fn sigterm_during_review_gives_the_terminal_back_and_keeps_every_change() {
    let Some(env) = demo_env("the SIGTERM review test") else {
        return;
    };
    let id = pick_item(&env.ws);
    let tmux = start_review(
        &env,
        &id,
        r#"case "$(stty -a)" in *-icanon*) echo TTY=raw;; *) echo TTY=cooked;; esac"#,
        "sigterm",
    );
    verify_mask(&tmux, &env, &id, 0);

    let shell: u32 = String::from_utf8_lossy(
        &tmux
            .cmd(&["list-panes", "-t", "e2e", "-F", "#{pane_pid}"])
            .stdout,
    )
    .trim()
    .parse()
    .expect("the pane's shell pid");
    let veil = child_of(shell).expect("veil running under the pane's shell");
    // SAFETY: kill(2) with a pid we just read and a valid signal number.
    let sent = unsafe { libc::kill(veil, libc::SIGTERM) };
    assert_eq!(sent, 0, "kill -TERM {veil}");

    let screen = tmux.wait_for("TTY=", 20);
    assert!(screen.contains("VEIL-EXIT=1"), "{screen}");
    assert!(screen.contains("review stopped by SIGTERM"), "{screen}");
    assert!(screen.contains("TTY=cooked"), "raw mode left on:\n{screen}");
    let alternate = tmux.cmd(&["display-message", "-p", "-t", "e2e", "#{alternate_on}"]);
    assert_eq!(
        String::from_utf8_lossy(&alternate.stdout).trim(),
        "0",
        "still on the alternate screen"
    );

    // The change made before the signal is on disk, and the place is remembered.
    assert!(!env.item(&id)["masks"][0]["zoom_check"].is_null());
    let resume = std::fs::read_to_string(env.ws.join("cache").join("review.json"))
        .expect("cache/review.json");
    assert!(resume.contains(&id), "{resume}");
}

/// The state letter of process `pid` (`Z` once it has exited unreaped),
/// or `None` once it is gone.
#[cfg(target_os = "linux")]
fn process_state(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

#[cfg(target_os = "linux")]
#[test]
fn closing_the_terminal_ends_the_review_instead_of_leaving_it_spinning() {
    let Some(env) = demo_env("the closed-terminal review test") else {
        return;
    };
    let id = pick_item(&env.ws);
    let tmux = start_review(&env, &id, "true", "hangup");
    let shell: u32 = String::from_utf8_lossy(
        &tmux
            .cmd(&["list-panes", "-t", "e2e", "-F", "#{pane_pid}"])
            .stdout,
    )
    .trim()
    .parse()
    .expect("the pane's shell pid");
    let veil = child_of(shell).expect("veil running under the pane's shell");
    assert!(env.ws.join("items").join(format!("{id}.lock")).exists());

    // The terminal goes away under it, as when an SSH connection drops.
    // (crossterm's reader then spins forever without returning.)
    drop(tmux);
    let start = Instant::now();
    while matches!(process_state(veil), Some(s) if s != 'Z') {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "veil (pid {veil}) still running 20 s after its terminal closed, state {:?}",
            process_state(veil)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The item is free again: another session can take it.
    let out = env.veil(&["approve", &id]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("being edited"), "{stderr}");
}

#[test]
fn the_first_key_after_the_station_starts_is_not_lost_to_the_graphics_query() {
    let Some(env) = demo_env("the first-key test") else {
        return;
    };
    let id = pick_item(&env.ws);
    // Auto-detection asks the terminal; tmux (passthrough off) never answers,
    // and the query's reader used to take the first key typed after it.
    let tmux = start_review_with(&env, &id, "true", "firstkey", "auto");
    std::thread::sleep(Duration::from_secs(3));
    tmux.keys(&["?"]);
    let screen = tmux.wait_for("mobile preview of the real output", 10);
    assert!(screen.contains("HELP"), "{screen}");
    tmux.keys(&["Escape", "q"]);
    tmux.wait_for("VEIL-EXIT=0", 20);
}

fn python3_available() -> bool {
    std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The demo with a reviewer and the item the pseudo-terminal tests drive,
/// or `None` (and a note) when python3 or tmux is missing.
fn pty_env(test: &str) -> Option<(Env, String)> {
    if !python3_available() {
        eprintln!("tui_e2e: python3 is not installed; skipping {test}");
        return None;
    }
    let env = demo_env(test)?;
    let id = pick_item(&env.ws);
    Some((env, id))
}

/// What the pseudo-terminal tests type: a nudge, the reject dialog opened
/// and closed, quit.
const PTY_KEYS: [(&str, &str); 4] = [
    ("nudge", "l"),
    ("reject dialog", "R"),
    ("reject dialog closed", "\u{1b}"),
    ("quit", "q"),
];

/// The harness's lines: bytes per step, then the exit status.
struct Steps(Vec<Value>);

impl Steps {
    fn bytes(&self, step: &str) -> u64 {
        self.0
            .iter()
            .find(|s| s["step"] == step)
            .and_then(|s| s["bytes"].as_u64())
            .unwrap_or_else(|| panic!("{step} in {:?}", self.0))
    }

    fn exit(&self) -> Option<Value> {
        self.0.last().map(|s| s["exit"].clone())
    }
}

/// Bytes per key of [`PTY_KEYS`] typed into `veil review --graphics
/// GRAPHICS` in a pseudo-terminal of 160×48 cells of 10×20 px, through
/// `tests/oracles/pty_bytes.py` (answering as kitty 0.26 does for `kitty`,
/// else as an xterm with sixel).
fn bytes_per_key(env: &Env, id: &str, graphics: &str) -> Steps {
    let keys = serde_json::to_string(&PTY_KEYS).expect("keys as JSON");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracles/pty_bytes.py");
    let out = std::process::Command::new("python3")
        .arg(&script)
        .args(["160", "48", "10", "20", &keys, "--", VEIL])
        .args(["--workspace"])
        .arg(&env.ws)
        .args(["review", "--graphics", graphics, id])
        .env("PTY_AS", graphics)
        .env("HOME", &env.home)
        .env("XDG_CONFIG_HOME", env.home.join(".config"))
        .output()
        .expect("python3 runs the pty harness");
    ok(&out, "the pty harness");
    Steps(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line from the harness"))
            .collect(),
    )
}

#[test]
fn over_a_pseudo_terminal_a_sixel_nudge_sends_a_small_part_of_the_picture_and_every_key_is_answered()
 {
    let Some((env, id)) = pty_env("the pseudo-terminal sixel test") else {
        return;
    };
    let before = env.item(&id)["masks"][0]["rect"]["x"].as_u64();
    let steps = bytes_per_key(&env, &id, "sixel");
    let all = &steps.0;
    let full = steps.bytes("start-up");
    assert!(full > 100_000, "a whole sixel picture at start-up: {all:?}");
    let nudge = steps.bytes("nudge");
    assert!(nudge > 0, "the nudge is drawn: {all:?}");
    assert!(
        nudge * 100 <= full * 15,
        "a nudge sends its cells only: {all:?}"
    );
    assert!(
        steps.bytes("reject dialog") < 20_000,
        "a dialog is text: {all:?}"
    );
    let closed = steps.bytes("reject dialog closed");
    assert!(
        closed > 0 && closed * 2 < full,
        "closing the dialog sends what it covered: {all:?}"
    );
    assert_eq!(
        steps.exit(),
        Some(Value::from(0)),
        "q ends the review: {all:?}"
    );
    let after = env.item(&id)["masks"][0]["rect"]["x"].as_u64();
    assert!(
        after > before,
        "the nudge moved the mask: {before:?} → {after:?}"
    );
}

#[test]
fn over_a_pseudo_terminal_kitty_edits_its_placed_picture_and_an_overlay_closing_sends_no_picture() {
    let Some((env, id)) = pty_env("the pseudo-terminal kitty test") else {
        return;
    };
    let steps = bytes_per_key(&env, &id, "kitty");
    let all = &steps.0;
    let full = steps.bytes("start-up");
    assert!(full > 100_000, "a whole picture at start-up: {all:?}");
    let nudge = steps.bytes("nudge");
    assert!(
        nudge > 0 && nudge * 100 <= full * 15,
        "an edit of the cells: {all:?}"
    );
    // The picture is taken off and put back: text and a few commands.
    assert!(
        steps.bytes("reject dialog closed") < 20_000,
        "no picture re-sent: {all:?}"
    );
    assert_eq!(
        steps.exit(),
        Some(Value::from(0)),
        "q ends the review: {all:?}"
    );
}
