//! `yutang bench welcome`: new contacts adding a guide through a live code at a steady rate,
//! each add a signed, encrypted callback POSTed over loopback HTTP to a serving Yutang, with a
//! fake WeCom that takes `latency_ms` to answer every call. Measures, per add, the time from
//! the callback leaving the "WeCom" side to the welcome arriving at the fake (WeCom allows
//! 20 s), on SQLite and PostgreSQL, against the floor in the same run: one `send_welcome_msg`
//! round trip to the same fake. Prints p50 / p99 / max and the ratio; never asserts a timing.

use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use yutang_app::settings::Settings;
use yutang_app::wecom::settings::WecomSettingsInput;
use yutang_app::{Actor, App};
use yutang_core::acquisition::{ChannelKind, ChannelSpec, GuideSlot, LiveCodeSpec, Welcome};
use yutang_wecom::fake::{CallbackTarget, FakeConfig, FakeEvent, FakeWecom};

use crate::bench_flash::{fresh_pg, serve_on_loopback};

pub struct Params {
    pub adds: usize,
    /// Adds per second.
    pub rate: u32,
    /// How long the fake WeCom takes to answer each call.
    pub latency_ms: u64,
    /// `sqlite`, `postgres` or `both`.
    pub engines: String,
    pub pg_url: String,
}

const TOKEN: &str = "BenchWelcomeToken";

fn percentile(sorted: &[i64], q: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn now_ms() -> i64 {
    yutang_core::time::Millis::now().0
}

pub async fn welcome(p: Params) -> Result<()> {
    let engines: Vec<&str> = match p.engines.as_str() {
        "both" => vec!["sqlite", "postgres"],
        "sqlite" => vec!["sqlite"],
        "postgres" => vec!["postgres"],
        other => bail!("--engines is sqlite, postgres or both, not {other}"),
    };
    for engine in engines {
        let dir = std::env::temp_dir().join(format!("yutang-bench-welcome-{}", now_ms()));
        std::fs::create_dir_all(&dir)?;
        let url = match engine {
            "sqlite" => format!("sqlite://{}", dir.join("bench.db").display()),
            _ => fresh_pg(&p.pg_url).await?,
        };
        let done = run_engine(engine, url, &p).await;
        let _ = std::fs::remove_dir_all(&dir);
        done?;
    }
    Ok(())
}

async fn run_engine(engine: &str, url: String, p: &Params) -> Result<()> {
    // A throwaway key for the WeCom secret stored in the throwaway database.
    let key_hex: String = (0..32)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect();
    let app = App::open(Settings {
        database_url: url,
        secret_key: Some(yutang_app::settings::Secret::new(key_hex)),
        ..Settings::default()
    })
    .await
    .map_err(|e| anyhow!("{e}"))?;
    app.demo()
        .seed_demo(10, &|_, _, _| {})
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let mut config = FakeConfig::demo();
    config.latency = Duration::from_millis(p.latency_ms);
    config.per_minute_limit = None;
    let fake = FakeWecom::start(config).await?;
    let key = yutang_wecom::AesKey::generate().to_encoding_aes_key();
    let sys = Actor::system();
    app.wecom()
        .save_wecom_settings(
            &sys,
            &WecomSettingsInput {
                corp_id: Some(fake.corp_id().to_owned()),
                api_base: Some(fake.base_url().to_owned()),
                contact_secret: Some(fake.secret().to_owned()),
                callback_token: Some(TOKEN.to_owned()),
                encoding_aes_key: Some(key.clone()),
                ..WecomSettingsInput::default()
            },
        )
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let guide = yutang_store::staff::list(
        &app.db,
        &yutang_store::staff::StaffFilter {
            store_id: None,
            store_bound_only: false,
            role: Some("guide"),
            status: Some("active"),
            q: None,
            limit: 1,
            offset: 0,
        },
    )
    .await?
    .0
    .into_iter()
    .next()
    .ok_or_else(|| anyhow!("the demo has no guide"))?;
    yutang_store::staff::set_wecom_userid(&app.db, guide.id, Some("zhangwei"), app.now()).await?;
    let acq = app.acquisition();
    let channel = acq
        .create_channel(
            &sys,
            ChannelSpec {
                name: "压测渠道".into(),
                kind: ChannelKind::Event,
                owner_staff_id: None,
                store_id: None,
                region_id: None,
                starts_on: None,
                ends_on: None,
                tag_ids: vec![],
                welcome: Some(Welcome {
                    text: "{customer_name} 您好，我是{guide_name}".into(),
                    attachments: vec![],
                }),
                reward_template_id: None,
            },
        )
        .await
        .map_err(|e| anyhow!("{e}"))?;
    acq.create_live_code(
        &sys,
        LiveCodeSpec {
            channel_id: channel.id,
            name: "压测活码".into(),
            kind: Default::default(),
            state: Some("bench-welcome".into()),
            skip_verify: true,
            guides: vec![GuideSlot {
                staff_id: guide.id,
                daily_cap: 10_000,
                weight: 1,
            }],
            backup_staff_id: None,
            schedule: Default::default(),
            spread: Default::default(),
            poster: Default::default(),
        },
    )
    .await
    .map_err(|e| anyhow!("{e}"))?;

    // The floor: one welcome round trip to the same fake, straight from a client.
    let client = app
        .wecom()
        .wecom_api()
        .await
        .map_err(|e| anyhow!("{e}"))?
        .ok_or_else(|| anyhow!("WeCom is not configured"))?;
    let mut floor = Vec::new();
    for i in 0..20 {
        let ev = fake.simulate_add_customer("zhangwei", &format!("基线{i}"), None);
        let FakeEvent::AddExternalContact {
            welcome_code: Some(code),
            ..
        } = ev
        else {
            bail!("the fake issued no welcome code");
        };
        let t = Instant::now();
        client
            .send_welcome_msg(&yutang_wecom::client::api::SendWelcomeMsgRequest {
                welcome_code: code,
                text: Some(yutang_wecom::client::api::Text {
                    content: "基线".into(),
                }),
                attachments: vec![],
            })
            .await?;
        floor.push(i64::try_from(t.elapsed().as_millis()).unwrap_or(i64::MAX));
    }
    floor.sort_unstable();

    let (addr, stop) = serve_on_loopback(&app, axum::Router::new()).await?;
    let target = CallbackTarget {
        url: format!("http://{addr}/wecom/callback"),
        token: TOKEN.into(),
        encoding_aes_key: key,
        receive_id: fake.corp_id().to_owned(),
    };
    let http = reqwest::Client::new();
    let every = Duration::from_secs_f64(1.0 / f64::from(p.rate.max(1)));
    let mut tick = tokio::time::interval(every);
    let mut sent = Vec::with_capacity(p.adds);
    let mut pushes = tokio::task::JoinSet::new();
    let started = Instant::now();
    for i in 0..p.adds {
        tick.tick().await;
        let ev = fake.simulate_add_customer("zhangwei", &format!("新客{i}"), Some("bench-welcome"));
        let FakeEvent::AddExternalContact {
            welcome_code: Some(code),
            ..
        } = &ev
        else {
            bail!("the fake issued no welcome code");
        };
        let at = now_ms();
        let xml = ev.to_xml(fake.corp_id(), at / 1000);
        sent.push((code.clone(), at));
        let (http, target) = (http.clone(), target.clone());
        pushes.spawn(async move {
            yutang_wecom::fake::push::push_xml(&http, &target, &xml, at / 1000).await
        });
    }
    while let Some(r) = pushes.join_next().await {
        let out = r??;
        if out.status != 200 {
            bail!("a callback answered {}", out.status);
        }
    }
    let offered = started.elapsed().as_secs_f64();
    // Wait (up to WeCom's 20 s window past the last add) for every welcome to arrive.
    let deadline = Instant::now() + Duration::from_secs(25);
    let mut took: Vec<i64> = Vec::new();
    loop {
        took.clear();
        for (code, at) in &sent {
            if let Some(used) = fake.welcome_code(code).and_then(|w| w.used_at_ms) {
                took.push(used - at);
            }
        }
        if took.len() == sent.len() || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop.send(());
    took.sort_unstable();
    let late = took.iter().filter(|&&t| t > 20_000).count();
    let p99 = percentile(&took, 0.99);
    let floor50 = percentile(&floor, 0.50).max(1);
    println!(
        "{engine}: {} adds offered at {}/s ({:.1} s), WeCom answering in {} ms: \
         callback → welcome p50 {} ms, p99 {} ms, max {} ms; {}/{} welcomed, {} past 20 s; \
         floor (one send_welcome_msg round trip) p50 {} ms → p99 = {:.1}× the floor",
        p.adds,
        p.rate,
        offered,
        p.latency_ms,
        percentile(&took, 0.50),
        p99,
        took.last().copied().unwrap_or(0),
        took.len(),
        sent.len(),
        late,
        floor50,
        p99 as f64 / floor50 as f64,
    );
    if took.len() != sent.len() {
        bail!(
            "{} of {} adds got no welcome",
            sent.len() - took.len(),
            sent.len()
        );
    }
    Ok(())
}
