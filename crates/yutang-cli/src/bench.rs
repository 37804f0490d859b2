//! `yutang bench ingest`: event ingest through the library call (no HTTP, no JSON), the
//! figure next to scripts/bench-ingest's HTTP one. Needs customers in the database (e.g.
//! `yutang demo --seed-only --customers 1000`). Prints rates; record them in
//! docs/benchmarks.md. Timings are printed, never asserted.

use std::time::Instant;

use anyhow::{Result, bail};
use yutang_app::audit::Page;
use yutang_app::customers::{CustomerQuery, CustomerRef};
use yutang_app::events::{EventInput, EventOutcome, RawBatch};
use yutang_app::{Actor, App};
use yutang_core::events::{ClientEventId, EventKind};
use yutang_core::ids::CustomerId;

/// Up to 1,000 existing customer ids to spread the events over.
async fn customer_ids(app: &App) -> Result<Vec<i64>> {
    let mut ids = Vec::new();
    for number in 1..=5 {
        let q = CustomerQuery {
            page: Page { number, size: 200 },
            ..Default::default()
        };
        let p = app
            .customers()
            .list_customers(&Actor::system(), &q)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        ids.extend(p.page.items.iter().map(|c| c.id));
        if p.page.items.len() < 200 {
            break;
        }
    }
    if ids.is_empty() {
        bail!("no customers: seed some first, e.g. `yutang demo --seed-only --customers 1000`");
    }
    Ok(ids)
}

fn batch(run: u128, b: usize, size: usize, ids: &[i64]) -> Result<RawBatch> {
    const KINDS: [&str; 4] = ["page_view", "search", "check_in", "share"];
    let mut out = Vec::with_capacity(size);
    for i in 0..size {
        let id = format!("lib-{run}-{b}-{i}");
        let ev = EventInput {
            client_id: ClientEventId::parse("id", &id)?,
            kind: EventKind::parse_client("kind", KINDS[(b * size + i) % KINDS.len()])?,
            customer: CustomerRef::Id(CustomerId(ids[(b * 7919 + i * 104_729) % ids.len()])),
            occurred_at: None,
            staff_id: None,
            detail: format!("{{\"page\":\"/item/{i}\"}}"),
        };
        out.push((Some(id), Ok(ev)));
    }
    Ok(out)
}

pub async fn ingest(app: &App, batches: usize, size: usize) -> Result<()> {
    let ids = customer_ids(app).await?;
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis();
    let mut prepared = Vec::with_capacity(batches);
    for b in 0..batches {
        prepared.push(batch(run, b, size, &ids)?);
    }
    let replays = prepared.clone();
    let engine = format!("{:?}", app.db.engine()).to_lowercase();
    for (label, set, want) in [
        ("new", prepared, "accepted"),
        ("replay", replays, "duplicate"),
    ] {
        let total = set.len() * size;
        let start = Instant::now();
        let mut matched = 0usize;
        for b in set {
            let outcomes = app
                .events()
                .ingest_events(&Actor::system(), b)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            matched += outcomes
                .iter()
                .filter(|o| match o {
                    EventOutcome::Accepted { .. } => want == "accepted",
                    EventOutcome::Duplicate => want == "duplicate",
                    EventOutcome::Rejected { .. } => false,
                })
                .count();
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{engine}: events via library ({label}): {total} in {secs:.2}s = {:.0} events/s ({matched} {want})",
            total as f64 / secs
        );
        if matched != total {
            bail!("{} of {total} events were not {want}", total - matched);
        }
    }
    Ok(())
}
