//! The world outside the review station's state: the workspace, the
//! ledger and the renderer. The runtime calls these to carry out the
//! effects `update` asks for; tests substitute their own.

use super::update::Approval;
use crate::gates::Gate;
use crate::item::Item;
use crate::keys::Reviewer;
use crate::workspace::{ItemLock, Workspace, WorkspaceError};
use image::RgbImage;
use std::sync::Mutex;

/// Phone-thumbnail width of the mobile preview, in pixels.
pub(crate) const MOBILE_WIDTH: u32 = 360;
/// JPEG quality of the mobile preview.
pub(crate) const MOBILE_QUALITY: u8 = 40;

/// The real output of an item, checked, and how it looks on a phone.
pub struct OutputProof {
    /// SHA-256 of the output bytes that would be released.
    pub sha256: String,
    /// `Ok(container)` when the bytes passed the allowlist.
    pub check: Result<String, String>,
    /// The output scaled to [`MOBILE_WIDTH`] and re-compressed at [`MOBILE_QUALITY`].
    pub mobile: RgbImage,
    pub warnings: Vec<String>,
}

/// What the review station needs from outside. Errors are one line that
/// names the item or file.
pub trait Services: Send + Sync {
    fn save_item(&self, item: &Item) -> Result<(), String>;
    fn load_item(&self, id: &str) -> Result<Item, String>;
    fn approve(&self, item_id: &str, attest: &[Gate]) -> Result<Approval, String>;
    fn reject(&self, item_id: &str, reason: &str) -> Result<u64, String>;
    /// Render the output exactly as approval would, from the upright,
    /// flattened original the station shows (decoded as render decodes
    /// it), check its bytes, and make the mobile preview from them.
    fn render_output(&self, upright: &RgbImage, item: &Item) -> Result<OutputProof, String>;
    /// The item is now on screen: hold it for editing (dropping the one held
    /// before) and read it fresh from disk, so edits saved by another
    /// session show; read-only when another session is editing it.
    fn open_item(&self, id: &str) -> Opened {
        Opened {
            item: self.load_item(id),
            read_only: None,
        }
    }
    /// Nothing is on screen: let go of the item held for editing.
    fn close_item(&self) {}
}

/// What opening an item found.
pub struct Opened {
    /// The item as it is on disk now.
    pub item: Result<Item, String>,
    /// Why it is shown read-only, e.g. "being edited by alice (pid 12 on
    /// ward7) — read-only"; `None` when this session holds it.
    pub read_only: Option<String>,
}

/// The real thing: a workspace, this user's reviewer key, and the lock
/// of the item on screen.
pub struct LiveServices {
    pub ws: Workspace,
    reviewer: Result<Reviewer, String>,
    held: Mutex<Option<ItemLock>>,
}

impl LiveServices {
    pub fn new(ws: Workspace, reviewer: Result<Reviewer, String>) -> LiveServices {
        LiveServices {
            ws,
            reviewer,
            held: Mutex::new(None),
        }
    }

    fn reviewer(&self) -> Result<&Reviewer, String> {
        self.reviewer.as_ref().map_err(std::clone::Clone::clone)
    }

    /// The lock of the item on screen, if this session holds it.
    fn held(&self) -> std::sync::MutexGuard<'_, Option<ItemLock>> {
        // A panic while holding this guard cannot leave the lock half-set.
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Services for LiveServices {
    fn save_item(&self, item: &Item) -> Result<(), String> {
        self.ws.save_item(item).map_err(|e| e.to_string())
    }

    fn load_item(&self, id: &str) -> Result<Item, String> {
        self.ws.load_item(id).map_err(|e| e.to_string())
    }

    fn approve(&self, item_id: &str, attest: &[Gate]) -> Result<Approval, String> {
        use crate::release::ApproveOutcome;
        let reviewer = self.reviewer()?;
        let held = self.held();
        let result = match held.as_ref().filter(|l| l.id() == item_id) {
            Some(lock) => crate::release::approve_held(&self.ws, reviewer, lock, attest),
            None => crate::release::approve(&self.ws, reviewer, item_id, attest),
        };
        match result {
            Ok(ApproveOutcome::Released { output, seq }) => Ok(Approval::Released {
                output: output
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| output.to_string_lossy().into_owned()),
                seq,
            }),
            Ok(ApproveOutcome::AwaitingSecond { seq }) => Ok(Approval::AwaitingSecond { seq }),
            Ok(ApproveOutcome::Refused { unmet }) => Ok(Approval::Refused { unmet }),
            Err(e) => Err(e.to_string()),
        }
    }

    fn reject(&self, item_id: &str, reason: &str) -> Result<u64, String> {
        let reviewer = self.reviewer()?;
        let held = self.held();
        match held.as_ref().filter(|l| l.id() == item_id) {
            Some(lock) => crate::release::reject_held(&self.ws, reviewer, lock, reason),
            None => crate::release::reject(&self.ws, reviewer, item_id, reason),
        }
        .map_err(|e| e.to_string())
    }

    fn open_item(&self, id: &str) -> Opened {
        let mut held = self.held();
        if held.as_ref().is_some_and(|l| l.id() == id) {
            return Opened {
                item: self.load_item(id),
                read_only: None,
            };
        }
        // Let go of the item we leave before taking the next.
        *held = None;
        let read_only = match self.ws.lock_item(id) {
            Ok(lock) => {
                *held = Some(lock);
                None
            }
            Err(WorkspaceError::Busy { holder, .. }) => {
                Some(format!("being edited by {holder} — read-only"))
            }
            // No lock could be taken (a read-only workspace?): refuse edits
            // rather than risk losing someone else's.
            Err(e) => Some(format!("could not be locked for editing ({e}) — read-only")),
        };
        Opened {
            item: self.load_item(id),
            read_only,
        }
    }

    fn close_item(&self) {
        *self.held() = None;
    }

    fn render_output(&self, upright: &RgbImage, item: &Item) -> Result<OutputProof, String> {
        let policy = &self.ws.policy;
        let (width, height) = item.oriented_size();
        let (found_width, found_height) = upright.dimensions();
        if (found_width, found_height) != (width, height) {
            return Err(crate::redact::RedactError::SizeMismatch {
                id: item.id.clone(),
                width,
                height,
                found_width,
                found_height,
            }
            .to_string());
        }
        let mut filled = upright.clone();
        crate::redact::fill_masks(&mut filled, &item.masks, policy);
        let rendered =
            crate::redact::finish_render(filled, item, policy).map_err(|e| e.to_string())?;
        let check = crate::redact::check_output(&rendered.bytes)
            .map(|f| f.name().to_string())
            .map_err(|e| e.to_string());
        let pixels = rendered.pixels().map_err(|e| e.to_string())?;
        let mobile = crate::redact::mobile_preview(&pixels, MOBILE_WIDTH, MOBILE_QUALITY)
            .map_err(|e| e.to_string())?;
        Ok(OutputProof {
            sha256: rendered.sha256,
            check,
            mobile,
            warnings: rendered.warnings,
        })
    }
}
