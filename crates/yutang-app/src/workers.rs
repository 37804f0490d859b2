//! The background loops of a serving node: the job runner with the segment index and tag
//! rules kept current, and the WeCom inbox sweep. `yutang serve` starts them with
//! [`Workers::start`] and they stop when the returned [`Workers`] is dropped.

use std::time::Duration;

use crate::App;
use crate::error::Result;

/// The running background loops; dropping this stops them.
pub struct Workers {
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Workers {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Workers {
    /// Build the segment index (it answers every count, so a node builds it before taking
    /// requests), then start the loops:
    /// - at start, then every hour: re-run every tag rule for everyone (the hourly run also
    ///   rebuilds the index, moving time windows);
    /// - every second: catch the index up, run event-driven tag rules, send or close open
    ///   welcomes (WeCom's 20 s window) and run due jobs;
    /// - every minute: re-point live codes (working-hour edges, midnight, failed syncs), and
    ///   enqueue the day's points expiry run and membership tier review (once per Shanghai
    ///   day each), and queue the scheduled reports whose period is due;
    /// - every 30 s: sweep the WeCom inbox for callbacks whose first application failed (or
    ///   that arrived while this node was down);
    /// - round after round while there is work, every 250 ms while idle: queue outbound
    ///   webhook deliveries for new events and send the due ones (`webhooks`);
    /// - the same for the dashboard's daily rollups (`analytics`): a requested rebuild, the
    ///   days new events touched, and every hour today and yesterday;
    /// - every second, at once again while there is work: the journey engine (`journeys`).
    ///
    /// Fails only when the segment index cannot be built; no loop is started then.
    pub async fn start(app: &App) -> Result<Self> {
        app.segments.rebuild(&app.db, app.now()).await?;
        let sweeper = {
            let app = app.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(30));
                loop {
                    tick.tick().await;
                    if let Err(e) = app.wecom().process_wecom_inbox(500).await {
                        tracing::warn!(error = %e, "WeCom inbox sweep");
                    }
                }
            })
        };
        let worker = {
            let app = app.clone();
            tokio::spawn(async move {
                // The change feed is commit-ordered on both engines: no slack to re-read.
                let slack = 0;
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                let mut last_hourly = std::time::Instant::now();
                let mut last_minute = std::time::Instant::now();
                // Rules look at changed customers every second and at everyone hourly; what
                // changed while no node ran them (a demo or import seeded before start, a
                // node down) is caught up once at start instead of after the first hour.
                if let Err(e) = app.tags().run_all_tag_rules(None).await {
                    tracing::warn!(error = %e, "tag rules at start");
                }
                loop {
                    tick.tick().await;
                    if let Err(e) = app.background_tick(slack).await {
                        tracing::warn!(error = %e, "background tick");
                    }
                    if last_minute.elapsed() >= Duration::from_secs(60) {
                        last_minute = std::time::Instant::now();
                        if let Err(e) = app.acquisition().refresh_live_codes().await {
                            tracing::warn!(error = %e, "live code refresh");
                        }
                        if let Err(e) = app.group_codes().refresh_all().await {
                            tracing::warn!(error = %e, "group code refresh");
                        }
                        if let Err(e) = app.acquisition().refresh_link_quota().await {
                            tracing::warn!(error = %e, "acquisition link quota");
                        }
                        if let Err(e) = app.points().schedule_daily_expiry().await {
                            tracing::warn!(error = %e, "points expiry");
                        }
                        if let Err(e) = app.tiers().schedule_review().await {
                            tracing::warn!(error = %e, "tier review");
                        }
                        if let Err(e) = app.gifts().schedule_daily().await {
                            tracing::warn!(error = %e, "member gifts");
                        }
                        if let Err(e) = app.mall().schedule_expiry().await {
                            tracing::warn!(error = %e, "mall expiry");
                        }
                        if let Err(e) = app.cards().schedule().await {
                            tracing::warn!(error = %e, "member cards");
                        }
                        if let Err(e) = app.analytics().reports().queue_due(app.now()).await {
                            tracing::warn!(error = %e, "scheduled reports");
                        }
                    }
                    if last_hourly.elapsed() >= Duration::from_secs(3600) {
                        last_hourly = std::time::Instant::now();
                        if let Err(e) = app.hourly_tick().await {
                            tracing::warn!(error = %e, "hourly tick");
                        }
                    }
                }
            })
        };
        let mut tasks = vec![sweeper, worker];
        if app.settings.webhooks.deliver {
            tasks.extend(crate::webhooks::spawn_loops(app));
        }
        if app.settings.analytics.follow {
            tasks.push(crate::analytics::spawn_loop(app));
        }
        if app.settings.journeys.run {
            tasks.push(crate::journeys::spawn_loop(app));
        }
        Ok(Workers { tasks })
    }
}

impl App {
    /// One tick of the background work: catch the index up, re-check event-driven rules on
    /// the customers that changed, run due jobs.
    pub async fn background_tick(&self, slack: i64) -> Result<()> {
        self.segments.catch_up(&self.db, self.now(), slack).await?;
        let changed = self.segments.take_changed()?;
        if !changed.is_empty() {
            self.tags().run_all_tag_rules(Some(&changed)).await?;
        }
        self.acquisition().sweep_welcomes().await?;
        self.drain_jobs().await?;
        Ok(())
    }

    /// The hourly work: rebuild the index (moving time windows forward) and re-run every
    /// rule for everyone (a baby turns 7 months without any event).
    pub async fn hourly_tick(&self) -> Result<()> {
        self.segments.rebuild(&self.db, self.now()).await?;
        self.segments.take_changed()?;
        self.tags().run_all_tag_rules(None).await?;
        Ok(())
    }
}
