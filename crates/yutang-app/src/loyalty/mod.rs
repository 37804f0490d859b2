//! Membership and loyalty use cases (会员): the points ledger, tiers, paid member cards, the
//! points mall and gifts. Each posts its ledger entries inside the transaction of what caused
//! them (an order, a refund, a redemption), so a replay of the cause replays nothing.

pub mod cards;
pub mod gifts;
pub mod mall;
pub mod points;
pub mod stored_value;
pub mod tiers;

use yutang_store::Tx;

use crate::error::Result;

/// The multiplier (thousandths, 1000 = ×1) a customer's order earnings get from the benefits
/// they hold when the order is recorded: their tier's and their card's, combined with
/// `yutang_core::loyalty::points::combine_multipliers`.
/// The card counts when it covers `at` (the order's payment).
pub(crate) async fn earning_multiplier_in(tx: &mut Tx, customer: i64, at: i64) -> Result<i64> {
    let tier = tiers::multiplier_in(tx, customer).await?;
    let card = cards::multiplier_in(tx, customer, at).await?;
    Ok(yutang_core::loyalty::points::combine_multipliers(&[
        tier, card,
    ]))
}
