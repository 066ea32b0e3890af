//! Files and folders are created private: the workspace and its folders
//! 0700, item files 0600, released outputs and certificates 0640, the
//! ledger and item locks never world-readable. (The reviewer key's 0600
//! and the refusal of a readable key are in tests/approve_cli.rs.)

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test is one scenario read top to bottom; the complexity caps are for the library.
#![allow(clippy::cognitive_complexity, clippy::too_many_lines)]

mod faults_support;

use faults_support::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_workspace_is_0700_items_0600_outputs_and_certificates_0640() {
    let b = Bench::new(None);
    tiny_originals(&b.originals(), 2);
    let (code, _, err) = b.run(&["ingest", &b.originals().to_string_lossy()]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = b.run(&["approve", "--batch", "--state", "pending", ATTEST]);
    assert_eq!(code, 0, "{out}\n{err}");
    let ws = b.open();
    ws.lock_item(&ws.item_ids().unwrap()[0]).unwrap();

    for dir in [
        ws.root().to_path_buf(),
        ws.items_dir(),
        ws.out_dir(),
        ws.cache_dir(),
    ] {
        assert_eq!(mode(&dir), 0o700, "{}", dir.display());
    }
    let mut seen = (0, 0, 0);
    for e in std::fs::read_dir(ws.items_dir()).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".json") {
            assert_eq!(mode(&p), 0o600, "{name}");
            seen.0 += 1;
        } else if name.ends_with(".lock") {
            assert_eq!(mode(&p) & 0o007, 0, "{name}");
        }
    }
    for e in std::fs::read_dir(ws.out_dir()).unwrap() {
        let p = e.unwrap().path();
        assert_eq!(mode(&p), 0o640, "{}", p.display());
        if p.to_string_lossy()
            .ends_with(veil::ledger::CERTIFICATE_SUFFIX)
        {
            seen.2 += 1;
        } else {
            seen.1 += 1;
        }
    }
    assert_eq!(seen, (2, 2, 2));
    assert_eq!(
        mode(&ws.ledger_path()) & 0o027,
        0,
        "ledger: no group write, no world"
    );
    assert_eq!(mode(&ws.policy_path()), 0o600);
}
