//! What an `add_external_contact` callback does for acquisition, inside the callback's own
//! transaction (so a replay or a crash never half-applies it): find the code and channel by
//! WeCom's `State` (an unknown or absent state is still recorded, attributed to no channel),
//! record the add and the customer's first touch, count the add against the guide's cap, put
//! the channel's tags on the customer, queue the welcome (one row per welcome code) and the
//! first-add reward (one row per customer, ever). After the commit, [`AddFollowUp`] re-points
//! the code and sends the welcome at once, outside any transaction.

use yutang_core::acquisition::ChannelSpec;
use yutang_core::tags::TagSource;
use yutang_store::Tx;
use yutang_store::acquisition::{self as store, NewAdd};
use yutang_store::jobs::NewJob;
use yutang_store::tags::TagChange;

use super::{Acquisition, REWARD_KIND, shanghai_day};
use crate::error::{AppError, Result};

/// WeCom's welcome window after the add event (page 92599: 20 s).
pub const WELCOME_WINDOW_MS: i64 = 20_000;

/// The add as the callback carries it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AddInput<'a> {
    /// The callback's dedup key: the add is recorded once per callback.
    pub dedup_key: &'a str,
    pub customer: i64,
    pub staff: Option<(i64, &'a str)>,
    pub state: Option<&'a str>,
    pub welcome_code: Option<&'a str>,
    /// The event's time (epoch ms).
    pub at: i64,
}

/// What to do once the callback's transaction committed.
#[derive(Debug, Clone, Default)]
pub(crate) struct AddFollowUp {
    /// The code to re-point (its counter moved).
    pub code: Option<i64>,
    /// The welcome to send now.
    pub welcome: Option<i64>,
    /// Channel tags put on the customer (to mirror to WeCom).
    pub tags: Vec<i64>,
    pub customer: i64,
    /// For the timeline entry: the channel's name, `None` when unknown.
    pub channel_name: Option<String>,
}

impl Acquisition<'_> {
    /// Record the add and everything that hangs off it, in `tx`. A replay of the callback
    /// finds its add recorded and does nothing.
    pub(crate) async fn on_add_in(&self, tx: &mut Tx, a: &AddInput<'_>) -> Result<AddFollowUp> {
        let state = a.state.map(str::trim).filter(|s| !s.is_empty());
        // A referral link's state stands for its program's code (and names the inviter).
        let mut referral = None;
        let code = match state {
            Some(s) => match self.referral_target_in(tx, s).await? {
                Some((link, code_state)) => {
                    referral = Some(link);
                    store::code_by_state_in(tx, &code_state).await?
                }
                None => store::code_by_state_in(tx, s).await?,
            },
            None => None,
        };
        let channel = match &code {
            Some(c) => store::get_channel_in(tx, c.channel_id).await?,
            None => None,
        };
        let spec: Option<ChannelSpec> = match &channel {
            Some(ch) => Some(
                serde_json::from_str(&ch.spec)
                    .map_err(|e| AppError::Internal(format!("channel {} spec: {e}", ch.id)))?,
            ),
            None => None,
        };
        let mut out = AddFollowUp {
            customer: a.customer,
            channel_name: channel.as_ref().map(|c| c.name.clone()),
            ..AddFollowUp::default()
        };
        let recorded = store::record_add_in(
            tx,
            &NewAdd {
                dedup_key: a.dedup_key,
                customer_id: a.customer,
                channel_id: channel.as_ref().map(|c| c.id),
                code_id: code.as_ref().map(|c| c.id),
                state: state.unwrap_or(""),
                staff_id: a.staff.map(|s| s.0),
                added_at: a.at,
            },
        )
        .await?;
        let Some((add_id, _first)) = recorded else {
            return Ok(out);
        };
        let now = self.now();
        if let Some(link) = &referral {
            self.referral_on_add_in(tx, link, a.customer, a.dedup_key, add_id, a.at)
                .await?;
        }
        super::referrals::on_friend_add_in(tx, a.customer, add_id, a.at, now).await?;
        if let (Some(c), Some((staff, _))) = (&code, a.staff) {
            store::count_add_in(tx, c.id, staff, &shanghai_day(a.at)).await?;
            store::want_sync_in(tx, c.id).await?;
            out.code = Some(c.id);
        }
        let (Some(ch), Some(spec)) = (&channel, &spec) else {
            return Ok(out);
        };
        if !spec.tag_ids.is_empty() {
            let by = format!("渠道:{}", ch.name);
            yutang_store::tags::change_in(
                tx,
                &TagChange {
                    customers: &[a.customer],
                    add: &spec.tag_ids,
                    remove: &[],
                    source: TagSource::Channel.as_str(),
                    staff_id: a.staff.map(|s| s.0),
                    by: &by,
                },
                now,
            )
            .await?;
            out.tags.clone_from(&spec.tag_ids);
        }
        if let (Some(code), Some(_)) = (a.welcome_code.filter(|c| !c.is_empty()), &spec.welcome) {
            out.welcome =
                store::insert_welcome_in(tx, code, add_id, a.at + WELCOME_WINDOW_MS, now).await?;
        }
        if let Some(template) = spec.reward_template_id
            && store::insert_reward_in(tx, a.customer, ch.id, template, now).await?
        {
            let key = format!("{REWARD_KIND}:{}", a.customer);
            let payload = serde_json::json!({ "customer_id": a.customer }).to_string();
            yutang_store::jobs::enqueue_in(
                tx,
                &NewJob {
                    kind: REWARD_KIND,
                    payload: &payload,
                    run_at: now,
                    idempotency_key: Some(&key),
                    created_by: None,
                },
                now,
            )
            .await?;
        }
        Ok(out)
    }

    /// After a pass over the inbox committed its adds: every add's follow-up at once.
    pub(crate) async fn after_adds(&self, follow_ups: Vec<AddFollowUp>) {
        futures_util::future::join_all(follow_ups.iter().map(|f| self.after_add(f))).await;
    }

    /// After the callback committed: send the welcome, re-point the code, mirror the tags to
    /// WeCom. Failures are logged; the welcome sweep and the minute tick catch up.
    pub(crate) async fn after_add(&self, f: &AddFollowUp) {
        if let Some(w) = f.welcome
            && let Err(e) = self.send_welcome(w).await
        {
            tracing::warn!(welcome = w, error = %e, "sending a welcome");
        }
        if let Some(c) = f.code
            && let Err(e) = self.sync_code(c).await
        {
            tracing::warn!(code = c, error = %e, "re-pointing a live code");
        }
        if !f.tags.is_empty() {
            self.wecom()
                .queue_mark_tag(&[f.customer], &f.tags, &[])
                .await;
        }
    }

    /// The pair was deleted (either side): close its open add (net adds).
    pub(crate) async fn on_delete_in(
        &self,
        tx: &mut Tx,
        customer: i64,
        staff: i64,
        at: i64,
    ) -> Result<()> {
        store::close_add_in(tx, customer, staff, at).await?;
        Ok(())
    }

    /// Issue a first-add reward (the job queued with the add). Once per customer: the reward
    /// row is the guard, the coupon claim is keyed by the customer, and a reward whose coupon
    /// can no longer be issued is recorded as refused instead of retried.
    pub(crate) async fn run_reward_job(&self, payload: &str) -> Result<String> {
        let v: serde_json::Value = serde_json::from_str(payload)
            .map_err(|e| AppError::Internal(format!("reward job payload: {e}")))?;
        let customer = v["customer_id"]
            .as_i64()
            .ok_or_else(|| AppError::Internal("reward job without customer_id".into()))?;
        let Some(r) = store::reward_of(&self.db, customer).await? else {
            return Ok("no reward".into());
        };
        if r.status != "pending" {
            return Ok(format!("reward already {}", r.status));
        }
        let key = format!("{REWARD_KIND}:{customer}");
        let issued = self
            .coupons()
            .issue_reward(r.template_id, yutang_core::ids::CustomerId(customer), &key)
            .await;
        let (status, claim, error) = match issued {
            Ok(c) => ("issued", Some(c.claim_id), String::new()),
            Err(e @ (AppError::Rule { .. } | AppError::Invalid(_) | AppError::NotFound { .. })) => {
                ("refused", None, e.to_string())
            }
            Err(e) => return Err(e),
        };
        let mut tx = self.db.begin().await?;
        if let Some(row) = store::lock_reward_in(&mut tx, customer).await?
            && row.status == "pending"
        {
            store::finish_reward_in(&mut tx, customer, status, claim, &error, self.now()).await?;
        }
        tx.commit().await?;
        Ok(format!("reward {status}"))
    }
}
