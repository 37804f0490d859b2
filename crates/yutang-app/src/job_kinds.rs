//! The wiring of the job runner: the one list of areas that run jobs. Each area registers
//! its kinds and handlers in its own module (a `register` function next to its kind
//! constants); the runner in [`crate::jobs`] imports no area. A new area that runs jobs adds
//! one line here.

use crate::jobs::JobRegistry;

/// Every job kind this node runs, with its handler.
pub(crate) fn registry() -> JobRegistry {
    let mut reg = JobRegistry::default();
    crate::tags::register(&mut reg);
    crate::acquisition::register(&mut reg);
    crate::promotions::register(&mut reg);
    crate::loyalty::points::register(&mut reg);
    crate::wecom::inbox::register(&mut reg);
    crate::wecom::sync::register(&mut reg);
    crate::wecom::tags::register(&mut reg);
    crate::wecom::transfers::register(&mut reg);
    crate::loyalty::tiers::register(&mut reg);
    crate::loyalty::gifts::register(&mut reg);
    crate::loyalty::mall::register(&mut reg);
    crate::loyalty::cards::register(&mut reg);
    crate::analytics::reports::register(&mut reg);
    crate::messaging::register(&mut reg);
    crate::moments::register(&mut reg);
    crate::radar::register(&mut reg);
    crate::journeys::register(&mut reg);
    crate::guide_tasks::register(&mut reg);
    crate::churn_alerts::register(&mut reg);
    crate::ratings::register(&mut reg);
    reg
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kinds the runner claimed before the registry existed (each area's constants).
    const EXPECTED: [&str; 34] = [
        crate::acquisition::REWARD_KIND,
        crate::acquisition::referrals::QUALIFY_KIND,
        crate::tags::BULK_TAG_KIND,
        crate::tags::RULE_RUN_KIND,
        crate::wecom::sync::FULL_SYNC_KIND,
        crate::wecom::transfers::TRANSFER_KIND,
        crate::wecom::tags::MARK_TAG_KIND,
        crate::promotions::JOB_KINDS[0],
        crate::promotions::JOB_KINDS[1],
        crate::promotions::JOB_KINDS[2],
        crate::promotions::JOB_KINDS[3],
        crate::promotions::JOB_KINDS[4],
        crate::wecom::CONTACT_DETAILS_KIND,
        crate::loyalty::points::EXPIRY_KIND,
        crate::loyalty::tiers::REVIEW_KIND,
        crate::loyalty::tiers::BENEFITS_KIND,
        crate::loyalty::gifts::GIFTS_KIND,
        crate::loyalty::mall::EXPIRY_KIND,
        crate::loyalty::cards::SETTLEMENT_KIND,
        crate::loyalty::cards::PACKS_KIND,
        crate::loyalty::cards::PACK_KIND,
        crate::analytics::reports::SEND_KIND,
        crate::messaging::PREPARE_KIND,
        crate::messaging::SEND_KIND,
        crate::messaging::TRACK_KIND,
        crate::moments::CREATE_KIND,
        crate::moments::RESULT_KIND,
        crate::moments::TRACK_KIND,
        crate::radar::NOTICE_KIND,
        crate::journeys::NOTIFY_KIND,
        crate::guide_tasks::REMIND_KIND,
        crate::churn_alerts::NOTIFY_KIND,
        crate::ratings::LOW_KIND,
        crate::ratings::CHOSEN_KIND,
    ];

    /// Every kind is registered exactly once (a second registration panics in `register`,
    /// so building the registry at all proves there is none), and no kind is missing or extra.
    #[test]
    fn every_kind_is_registered_exactly_once() {
        let reg = registry();
        let mut expected = EXPECTED.to_vec();
        expected.sort_unstable();
        let before = expected.len();
        expected.dedup();
        assert_eq!(expected.len(), before, "the expected kinds repeat");
        assert_eq!(reg.kinds(), expected);
        for kind in EXPECTED {
            assert!(reg.handler(kind).is_some(), "{kind} has no handler");
        }
        assert!(reg.handler("no_such_kind").is_none());
    }

    #[test]
    #[should_panic(expected = "registered twice")]
    fn a_kind_registered_twice_is_refused() {
        let mut reg = registry();
        crate::tags::register(&mut reg);
    }

    #[test]
    #[should_panic(expected = "must be ASCII letters")]
    fn a_kind_the_claim_would_skip_is_refused() {
        let mut reg = JobRegistry::default();
        reg.register("bad-kind", |app, job| {
            Box::pin(async move { app.wecom().run_transfer_job(&job.payload).await })
        });
    }
}
