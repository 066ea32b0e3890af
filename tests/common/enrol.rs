//! Enrol a reviewer through the command line, as a newcomer's first run does.
#![allow(dead_code)]

use std::path::Path;
use std::process::Output;

/// The administrator every test workspace gets.
pub const TEST_ADMIN: &str = "Test Administrator";

/// `veil reviewer init --name NAME`, then (making the workspace's
/// administrator first if it has none) `veil admin enrol` with the public
/// key file the reviewer's init wrote under `config` (`$XDG_CONFIG_HOME`).
/// `run` runs `veil ARGS` in the test's environment.
pub fn enrol(run: &dyn Fn(&[&str]) -> Output, config: &Path, ws: &Path, name: &str) {
    let ok = |args: &[&str]| {
        let out = run(args);
        assert!(
            out.status.success(),
            "veil {}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ok(&["reviewer", "init", "--name", name]);
    let ledger = std::fs::read_to_string(ws.join("ledger.jsonl")).unwrap_or_default();
    if !ledger.contains("\"kind\":\"admin\"") {
        ok(&["admin", "init", "--name", TEST_ADMIN]);
    }
    let key = config.join("veil/reviewer_ed25519.pub");
    ok(&[
        "admin",
        "enrol",
        "--name",
        name,
        "--key-file",
        &key.to_string_lossy(),
    ]);
}
