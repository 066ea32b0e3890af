//! Free text bound for the ledger (a rejection's or withdrawal's reason).
//!
//! The ledger is signed and append-only: whatever a reviewer types there is
//! kept for good and shown to every auditor. A reason must say why ("blurry",
//! "duplicate of 7b01d4e2", "consent withdrawn"), never who. This module
//! spots the shapes patient details take — a name, an MRN- or NHS-like
//! number, a date — so the caller can refuse or ask again. It is a net for
//! slips, not a guarantee: it looks at the shapes, not at a patient list.

/// What in `reason` looks like a patient detail, as a phrase for a refusal
/// ("a date (12/03/1970)"); `None` when nothing does.
pub(crate) fn patient_detail(reason: &str) -> Option<String> {
    let words: Vec<&str> = reason
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '(' | ')' | '"'))
        .filter(|w| !w.is_empty())
        .collect();
    for (i, w) in words.iter().enumerate() {
        let bare = w.trim_matches(|c: char| !c.is_alphanumeric());
        let lower = bare.to_lowercase();
        if ["mrn", "dob", "nhs", "ssn", "d.o.b"].contains(&lower.as_str()) {
            return Some(format!("a patient identifier label ({bare})"));
        }
        if is_date(bare) {
            return Some(format!("a date ({bare})"));
        }
        if let Some(next) = words.get(i + 1) {
            let next = next.trim_matches(|c: char| !c.is_alphanumeric());
            if is_month(&lower) && next.len() == 4 && next.chars().all(|c| c.is_ascii_digit()) {
                return Some(format!("a date ({bare} {next})"));
            }
            if i > 0 && is_month(&next.to_lowercase()) && bare.chars().all(|c| c.is_ascii_digit()) {
                return Some(format!("a date ({bare} {next})"));
            }
            let title = ["mr", "mrs", "ms", "miss", "mx", "dr", "prof"]
                .contains(&lower.trim_end_matches('.'));
            let named = next.chars().all(char::is_alphabetic) && !next.is_empty();
            if (title && named) || (i > 0 && is_capitalised(bare) && is_capitalised(next)) {
                return Some(format!("a name ({bare} {next})"));
            }
        }
    }
    // Digits anywhere in a run, spaces and dashes allowed inside
    // (NHS numbers are written 943 476 5919).
    let mut run = String::new();
    let mut best = String::new();
    for c in reason.chars().chain(std::iter::once('.')) {
        if c.is_ascii_digit() || ((c == ' ' || c == '-') && !run.is_empty()) {
            run.push(c);
        } else {
            let digits = run.chars().filter(char::is_ascii_digit).count();
            if digits > best.chars().filter(char::is_ascii_digit).count() {
                best = run.trim_end_matches([' ', '-']).to_string();
            }
            run.clear();
        }
    }
    if best.chars().filter(char::is_ascii_digit).count() >= 6 {
        return Some(format!("a record number ({best})"));
    }
    None
}

/// `12/03/1970`, `1970-03-12`, `12.03.70`: three numbers with one of the
/// date separators, one of them a plausible day or month.
fn is_date(w: &str) -> bool {
    for sep in ['/', '-', '.'] {
        let parts: Vec<&str> = w.split(sep).collect();
        if parts.len() == 3
            && parts
                .iter()
                .all(|p| (1..=4).contains(&p.len()) && p.chars().all(|c| c.is_ascii_digit()))
            && parts.iter().any(|p| p.len() <= 2)
        {
            return true;
        }
    }
    false
}

fn is_month(w: &str) -> bool {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    w.len() >= 3 && MONTHS.iter().any(|m| m.starts_with(w))
}

/// `Jane`, `O'Brien`, `Smith-Jones`: a capital, then lower-case letters.
fn is_capitalised(w: &str) -> bool {
    let mut chars = w.chars();
    chars.next().is_some_and(char::is_uppercase)
        && w.chars().count() >= 2
        && chars.all(|c| c.is_lowercase() || c == '\'' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::patient_detail;

    #[test]
    fn reasons_that_say_why_pass() {
        for ok in [
            "blurry",
            "duplicate of 7b01d4e2",
            "Duplicate of 7b01d4e2",
            "consent withdrawn",
            "Wrong body site, retake requested",
            "out of focus at 2x; face partly cut at the edge",
            "ward 7 photo, not clinical",
            "Tattoo not maskable",
            "batch 12 of 40",
        ] {
            assert_eq!(patient_detail(ok), None, "{ok}");
        }
    }

    #[test]
    fn names_record_numbers_and_dates_are_caught() {
        for (text, found) in [
            ("duplicate of Jane Doe", "a name (Jane Doe)"),
            ("photo of mr smith", "a name (mr smith)"),
            ("Mrs. Patel asked", "a name (Mrs Patel)"),
            ("MRN 12345678", "a patient identifier label (MRN)"),
            ("wrong patient 12345678", "a record number (12345678)"),
            ("nhs no 943 476 5919", "a patient identifier label (nhs)"),
            ("wrong one, 943 476 5919", "a record number (943 476 5919)"),
            ("born 12/03/1970", "a date (12/03/1970)"),
            ("seen 1970-03-12", "a date (1970-03-12)"),
            ("clinic on 3 March", "a date (3 March)"),
            ("March 1970 admission", "a date (March 1970)"),
            ("d.o.b. given", "a patient identifier label (d.o.b)"),
        ] {
            assert_eq!(patient_detail(text).as_deref(), Some(found), "{text}");
        }
    }
}
