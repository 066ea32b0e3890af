//! `approve --batch`: approves exactly the items whose gates all pass, says
//! exactly why it skipped the others, and marks its entries as one batch.

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test is one scenario read top to bottom; the complexity caps are for the library.
#![allow(clippy::cognitive_complexity, clippy::too_many_lines)]

mod ledger_support;

use ledger_support::*;
use std::collections::BTreeMap;
use veil::item::ItemState;
use veil::ledger::{self, EntryKind, Severity};
use veil::policy::Naming;
use veil::release::{self, BatchResult};

fn results(report: &release::BatchReport) -> BTreeMap<String, BatchResult> {
    report
        .rows
        .iter()
        .map(|r| (r.id.clone(), r.result.clone()))
        .collect()
}

#[test]
fn approve_batch_never_approves_an_item_with_an_unmet_gate_and_names_each_unmet_gate_exactly() {
    let f = Fixture::new();
    let good = f.add_item(1, &[face()], true, ItemState::Ready);
    let mut no_preview = f.add_item(2, &[face()], true, ItemState::Ready);
    no_preview.gates.preview_seen = None;
    f.ws.save_item(&no_preview).unwrap();
    let mut not_zoomed = f.add_item(3, &[face()], true, ItemState::Ready);
    not_zoomed.masks[0].zoom_check = None;
    f.ws.save_item(&not_zoomed).unwrap();
    let mut unattested = f.add_item(4, &[face()], true, ItemState::Ready);
    unattested.gates.attested.clear();
    f.ws.save_item(&unattested).unwrap();
    let pending = f.add_item(5, &[face()], true, ItemState::Pending);

    let report = release::approve_batch(&f.ws, &f.a, ItemState::Ready, &[], false).unwrap();
    let r = results(&report);
    assert_eq!(r.len(), 4, "only ready items are considered");
    assert!(!r.contains_key(&pending.id));
    assert!(matches!(
        &r[&good.id],
        BatchResult::Released { seq: Some(_), .. }
    ));
    let skip = |id: &str| match &r[id] {
        BatchResult::Skipped { reason } => reason.clone(),
        other => panic!("{id} was not skipped: {other:?}"),
    };
    assert_eq!(skip(&no_preview.id), "preview (preview not seen (press m))");
    assert_eq!(
        skip(&not_zoomed.id),
        "zoom (mask #1 not seen at 2.0x (press z))"
    );
    assert_eq!(
        skip(&unattested.id),
        "reflections (not attested); edges (not attested; 0/4 edges viewed at zoom); identifiers (not attested, no text detector ran: look by eye)"
    );

    // Skipped items are untouched: no entry, no output, same state.
    let bytes = f.ledger_bytes();
    let all = ledger::entries(&bytes);
    let approved: Vec<_> = all
        .iter()
        .filter(|l| l.entry.kind == EntryKind::Approve)
        .map(|l| l.entry.item.clone().unwrap())
        .collect();
    assert_eq!(approved, vec![good.id.clone()]);
    for id in [&no_preview.id, &not_zoomed.id, &unattested.id] {
        assert_eq!(f.ws.load_item(id).unwrap().state, ItemState::Ready);
    }
    let released = f.ws.load_item(&good.id).unwrap();
    assert_eq!(released.state, ItemState::Approved);
    let out = released.output.unwrap();
    let on_disk = std::fs::read(f.ws.out_dir().join(&out.name)).unwrap();
    assert_eq!(ledger::sha256_hex(&on_disk), out.sha256);
    let names: Vec<_> = std::fs::read_dir(f.ws.out_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "one output and its certificate: {names:?}");

    let v = veil::audit::verify_workspace(&f.ws, None, None).unwrap();
    assert_eq!(v.worst(), None, "{}", problems(&v));
}

#[test]
fn batch_entries_carry_one_batch_id_with_their_position_and_count() {
    let f = Fixture::new();
    for n in 1..=3 {
        f.add_item(n, &[face()], true, ItemState::Ready);
    }
    f.add_item(4, &[face()], false, ItemState::Ready);
    let report = release::approve_batch(&f.ws, &f.a, ItemState::Ready, &[], false).unwrap();
    assert_eq!((report.approved(), report.skipped()), (3, 1));
    let id = report.batch_id.clone().unwrap();
    let bytes = f.ledger_bytes();
    let batch: Vec<_> = ledger::entries(&bytes)
        .into_iter()
        .filter_map(|l| l.entry.batch)
        .collect();
    assert_eq!(batch.len(), 3);
    for (i, b) in batch.iter().enumerate() {
        assert_eq!((b.id.as_str(), b.i, b.n), (id.as_str(), i as u64, 3));
    }
    let v = veil::audit::verify_workspace(&f.ws, None, None).unwrap();
    assert_eq!(v.worst(), None, "{}", problems(&v));
}

#[test]
fn a_batch_missing_its_last_entry_is_reported_incomplete() {
    let f = Fixture::new();
    for n in 1..=3 {
        f.add_item(n, &[face()], true, ItemState::Ready);
    }
    release::approve_batch(&f.ws, &f.a, ItemState::Ready, &[], false).unwrap();
    let l = lines(&f.ledger_bytes());
    let cut = join_lines(&l[..l.len() - 1]);
    let r = ledger::verify(&cut, &f.signers(), None);
    assert_eq!(r.worst(), Some(Severity::Warning), "{}", problems(&r));
    assert!(
        problems(&r).contains("position(s) 2 of 3 missing"),
        "{}",
        problems(&r)
    );
}

#[test]
fn a_dry_run_says_what_it_would_do_and_changes_nothing() {
    let f = Fixture::new();
    let good = f.add_item(1, &[face()], true, ItemState::Ready);
    let bad = f.add_item(2, &[face()], false, ItemState::Ready);
    let before = std::fs::read(f.ws.item_path(&good.id)).unwrap();
    let ledger_before = f.ledger_bytes();
    let report = release::approve_batch(&f.ws, &f.a, ItemState::Ready, &[], true).unwrap();
    let r = results(&report);
    assert!(matches!(
        &r[&good.id],
        BatchResult::Released { seq: None, .. }
    ));
    assert!(matches!(&r[&bad.id], BatchResult::Skipped { .. }));
    assert_eq!(
        f.ledger_bytes(),
        ledger_before,
        "a dry run must not write to the ledger"
    );
    assert_eq!(std::fs::read_dir(f.ws.out_dir()).unwrap().count(), 0);
    assert_eq!(std::fs::read(f.ws.item_path(&good.id)).unwrap(), before);
}

#[test]
fn attesting_with_the_approval_records_who_attested_with_their_key() {
    let f = Fixture::new();
    let mut item = f.add_item(1, &[face()], true, ItemState::Ready);
    item.gates.attested.clear();
    f.ws.save_item(&item).unwrap();
    let attest = veil::gates::Gate::ATTESTED;
    let report = release::approve_batch(&f.ws, &f.a, ItemState::Ready, &attest, false).unwrap();
    assert_eq!(report.approved(), 1);
    let bytes = f.ledger_bytes();
    let entry = ledger::entries(&bytes)
        .into_iter()
        .find(|l| l.entry.kind == EntryKind::Approve)
        .unwrap()
        .entry;
    let gates = entry.gates.unwrap();
    let edges = gates.iter().find(|g| g.gate.as_str() == "edges").unwrap();
    assert_eq!(edges.method.as_str(), "attested");
    assert!(edges.met);
    assert!(
        edges.detail.contains(&f.a.fingerprint()),
        "{}",
        edges.detail
    );
    let saved = f.ws.load_item(&item.id).unwrap();
    assert!(
        saved.gates.attested[&veil::gates::Gate::Reflections]
            .reviewer
            .contains(NAME_A)
    );
}

#[test]
fn sequential_names_continue_from_the_ledger() {
    let mut f = Fixture::new();
    f.set_policy(|p| p.replace("naming = \"random\"", "naming = \"sequential\""));
    assert_eq!(f.ws.policy.output.naming, Naming::Sequential);
    let a = f.add_item(1, &[face()], true, ItemState::Ready);
    let b = f.add_item(2, &[face()], true, ItemState::Ready);
    release::approve(&f.ws, &f.a, &a.id, &[]).unwrap();
    release::approve(&f.ws, &f.a, &b.id, &[]).unwrap();
    let name = |id: &str| f.ws.load_item(id).unwrap().output.unwrap().name;
    assert_eq!(name(&a.id), "Study_0001.jpg");
    assert_eq!(name(&b.id), "Study_0002.jpg");
}
