//! The demo brand's churn alerts (流失提醒): a handful made from the pool's follows that ended
//! (a customer deleted their guide, or a guide deleted a customer) over the last days, with
//! each customer's value as the WeCom callback records it, some handled by the store manager
//! with a note. No message is queued: the demo's WeCom is the fake's, and these happened in
//! the past.

use yutang_core::churn_alerts::Kind;
use yutang_store::churn_alerts::{self as store, NewAlert};

use super::Demo;
use crate::error::Result;

/// How many alerts the demo makes, at most.
const ALERTS: i64 = 12;
const HOUR_MS: i64 = 3_600_000;
const NOTES: [&str; 3] = [
    "已电话回访：搬家到外地，推荐了当地门店",
    "客户误删，已重新添加",
    "导购离职前清理了重复的好友，已核实",
];

impl Demo<'_> {
    pub(crate) async fn seed_demo_churn_alerts(&self) -> Result<usize> {
        let now = self.now();
        let ended = store::ended_follows(&self.db, ALERTS).await?;
        let mut made = 0;
        let mut tx = self.db.begin().await?;
        for (i, (customer, staff, store_id, state)) in ended.into_iter().enumerate() {
            let kind = if state == "deleted_by_guide" {
                Kind::GuideDeleted
            } else {
                Kind::CustomerDeleted
            };
            let (orders, spend_fen, tier) = store::value_in(&mut tx, customer).await?;
            let key = format!("demo:churn:{customer}:{staff}");
            let row = NewAlert {
                kind: kind.as_str(),
                customer_id: customer,
                staff_id: staff,
                store_id,
                occurred_at: now - (i as i64 * 7 + 2) * HOUR_MS,
                orders,
                spend_fen,
                tier_id: tier.as_ref().map(|t| t.0),
                tier_name: tier.as_ref().map(|t| t.1.as_str()),
                source_key: &key,
            };
            let Some(id) = store::insert_in(&mut tx, &row, now).await? else {
                continue;
            };
            made += 1;
            // The older ones were handled by the store's manager.
            if i % 3 == 2 {
                let manager = match store_id {
                    Some(s) => store::store_managers_in(&mut tx, s)
                        .await?
                        .first()
                        .map(|m| m.0),
                    None => None,
                };
                let note = NOTES[(i / 3) % NOTES.len()];
                store::handle_in(&mut tx, id, manager, note, now - i as i64 * HOUR_MS).await?;
            }
        }
        tx.commit().await?;
        Ok(made)
    }
}
