//! The one clock: every time Veil records (ledger entries, item evidence,
//! ingest, the review station) is UTC truncated to the whole second, so two
//! records made in the same second agree.

/// Now, UTC, whole seconds: `2025-01-31T09:30:00Z`.
pub fn now_ts() -> String {
    let now = jiff::Timestamp::now();
    jiff::Timestamp::from_second(now.as_second())
        .unwrap_or(now)
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn now_is_utc_to_the_whole_second() {
        let t = super::now_ts();
        assert!(t.ends_with('Z') && !t.contains('.'), "{t}");
        assert!(t.parse::<jiff::Timestamp>().is_ok(), "{t}");
    }
}
