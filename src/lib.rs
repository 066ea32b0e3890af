//! Veil: de-identify clinical photographs with an auditable review trail.
//!
//! The library does the work; `src/main.rs` only parses the command line.
//! Data flows one way: originals → `ingest` → item files → review →
//! approve (render, check, release) → signed ledger → `verify`.

pub mod admin;
pub mod audit;
pub mod checklist;
pub mod cli;
pub mod clock;
pub mod colour;
pub mod commands;
pub(crate) mod container;
pub mod decoded;
pub mod detect;
pub mod dicom;
pub mod dicom_source;
pub mod gates;
pub mod heif;
pub mod image_io;
pub mod ingest;
pub mod item;
pub mod keys;
pub mod ledger;
pub mod mask_kind;
pub mod memory;
pub mod metadata;
pub mod policy;
pub mod random;
pub mod reason;
pub mod redact;
pub mod release;
pub mod text;
pub mod trust;
pub mod tui;
pub mod withdraw;
pub mod workspace;
