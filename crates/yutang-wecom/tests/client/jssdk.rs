//! JS-SDK tickets (96909) through the real client against the fake: which secret may fetch
//! them, caching and single flight, refresh, the hourly limits, and that a ticket never reaches
//! a log line.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use yutang_wecom::client::api::{
    ERR_API_FORBIDDEN, MAX_TICKET_FETCHES_PER_APP_PER_HOUR, MAX_TICKET_FETCHES_PER_CORP_PER_HOUR,
    PATH_GET_JSAPI_TICKET, PATH_TICKET_GET, TicketKind, jssdk_signature,
};
use yutang_wecom::client::codes;
use yutang_wecom::fake::{FakeConfig, FakeWecom};
use yutang_wecom::{ClientConfig, WecomClient};

use crate::{GETTOKEN, spawn, spawn_with};

const AGENT: i64 = 1_000_002;
const APP_SECRET: &str = "fake-sidebar-app-secret";

/// A client holding the secret of the app `agentid`, registered with the fake.
fn app_client(fake: &FakeWecom, agentid: i64, secret: &str) -> WecomClient {
    fake.add_app(agentid, secret);
    let mut config = ClientConfig::new(fake.corp_id(), secret).with_api_base(fake.base_url());
    config.backoff_base = Duration::from_millis(5);
    config.backoff_max = Duration::from_millis(20);
    config.request_timeout = Duration::from_secs(5);
    WecomClient::new(config).unwrap()
}

#[tokio::test]
async fn an_app_client_gets_both_tickets_and_reuses_them() {
    let (fake, _contact) = spawn().await;
    assert_eq!(fake.jsapi_ticket(), None);
    let client = app_client(&fake, AGENT, APP_SECRET);
    let corp = client.jsapi_ticket(TicketKind::Corp).await.unwrap();
    let agent = client.jsapi_ticket(TicketKind::Agent).await.unwrap();
    assert_eq!(fake.jsapi_ticket().as_deref(), Some(corp.as_str()));
    assert_eq!(
        fake.agent_jsapi_ticket(AGENT).as_deref(),
        Some(agent.as_str())
    );
    assert_eq!(fake.agent_jsapi_ticket(AGENT + 1), None);
    assert_ne!(corp, agent);
    for _ in 0..5 {
        assert_eq!(client.jsapi_ticket(TicketKind::Corp).await.unwrap(), corp);
        assert_eq!(client.jsapi_ticket(TicketKind::Agent).await.unwrap(), agent);
    }
    assert_eq!(fake.jsapi_ticket_fetches(), 2);
    assert_eq!(fake.calls(PATH_GET_JSAPI_TICKET), 1);
    assert_eq!(fake.calls(PATH_TICKET_GET), 1);
    assert_eq!(fake.calls(GETTOKEN), 1);
    // The two signatures of `ww.register` differ only by their ticket.
    let url = "https://scrm.example.com/sidebar/?corp=1#/customer";
    let config_signature = jssdk_signature(&corp, "nonce123", 1_700_000_000, url);
    let agent_signature = jssdk_signature(&agent, "nonce123", 1_700_000_000, url);
    assert_eq!(config_signature.len(), 40);
    assert_ne!(config_signature, agent_signature);

    // A second client of the same app gets the same tickets while they are valid (WeCom
    // answers the valid one), with one more fetch each.
    let other = app_client(&fake, AGENT, APP_SECRET);
    assert_eq!(other.jsapi_ticket(TicketKind::Corp).await.unwrap(), corp);
    assert_eq!(fake.jsapi_ticket_fetches(), 3);
}

#[tokio::test]
async fn twenty_concurrent_callers_share_one_fetch() {
    let config = FakeConfig {
        latency: Duration::from_millis(50),
        ..FakeConfig::demo()
    };
    let (fake, _contact) = spawn_with(config, |_| {}).await;
    let client = app_client(&fake, AGENT, APP_SECRET);
    let handles: Vec<_> = (0..20)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.jsapi_ticket(TicketKind::Corp).await })
        })
        .collect();
    let mut tickets = Vec::new();
    for handle in handles {
        tickets.push(handle.await.unwrap().unwrap());
    }
    assert!(tickets.iter().all(|t| *t == tickets[0]));
    assert_eq!(fake.jsapi_ticket_fetches(), 1);
    assert_eq!(fake.calls(PATH_GET_JSAPI_TICKET), 1);
    assert_eq!(fake.calls(GETTOKEN), 1);
}

#[tokio::test]
async fn expired_and_invalidated_tickets_are_fetched_again() {
    let (fake, _contact) = spawn().await;
    let client = app_client(&fake, AGENT, APP_SECRET);
    let corp = client.jsapi_ticket(TicketKind::Corp).await.unwrap();
    let agent = client.jsapi_ticket(TicketKind::Agent).await.unwrap();
    fake.expire_jsapi_tickets();
    assert_eq!(fake.jsapi_ticket(), None);
    assert_eq!(fake.agent_jsapi_ticket(AGENT), None);
    // The client cannot know: its cached ones stay in use until it is told.
    assert_eq!(client.jsapi_ticket(TicketKind::Corp).await.unwrap(), corp);
    assert_eq!(fake.jsapi_ticket_fetches(), 2);

    client.invalidate_jsapi_ticket(TicketKind::Corp).await;
    let new_corp = client.jsapi_ticket(TicketKind::Corp).await.unwrap();
    assert_ne!(new_corp, corp);
    assert_eq!(fake.jsapi_ticket().as_deref(), Some(new_corp.as_str()));
    // Invalidating one kind leaves the other cached.
    assert_eq!(client.jsapi_ticket(TicketKind::Agent).await.unwrap(), agent);
    assert_eq!(fake.jsapi_ticket_fetches(), 3);
    client.invalidate_jsapi_ticket(TicketKind::Agent).await;
    let new_agent = client.jsapi_ticket(TicketKind::Agent).await.unwrap();
    assert_ne!(new_agent, agent);
    assert_eq!(
        fake.agent_jsapi_ticket(AGENT).as_deref(),
        Some(new_agent.as_str())
    );
    assert_eq!(fake.jsapi_ticket_fetches(), 4);
}

#[tokio::test]
async fn the_client_refreshes_when_expires_in_says() {
    let (fake, _contact) = spawn().await;
    let first = app_client(&fake, AGENT, APP_SECRET);
    let ticket = first.jsapi_ticket(TicketKind::Corp).await.unwrap();
    // 2 s before the ticket expires, another client fetches it: WeCom's valid ticket, with
    // `expires_in` 2, which that client keeps for half of it (the 300 s margin is more).
    fake.advance_clock(Duration::from_secs(7198));
    let second = app_client(&fake, AGENT, APP_SECRET);
    assert_eq!(second.jsapi_ticket(TicketKind::Corp).await.unwrap(), ticket);
    assert_eq!(fake.jsapi_ticket_fetches(), 2);
    fake.advance_clock(Duration::from_secs(10));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let renewed = second.jsapi_ticket(TicketKind::Corp).await.unwrap();
    assert_ne!(renewed, ticket);
    assert_eq!(fake.jsapi_ticket_fetches(), 3);
    // The first client's copy is good for ~2 hours by its own clock.
    assert_eq!(first.jsapi_ticket(TicketKind::Corp).await.unwrap(), ticket);
    assert_eq!(fake.jsapi_ticket_fetches(), 3);
}

#[tokio::test]
async fn the_contact_secret_is_refused() {
    let (fake, contact) = spawn().await;
    for kind in [TicketKind::Corp, TicketKind::Agent] {
        let error = contact.jsapi_ticket(kind).await.unwrap_err();
        assert_eq!(error.errcode(), Some(ERR_API_FORBIDDEN), "{error}");
        assert!(!error.is_transient());
    }
    assert_eq!(fake.jsapi_ticket_fetches(), 0);
    assert_eq!(fake.jsapi_ticket(), None);
    // A refusal is not cached: once the right secret is used, it works.
    let client = app_client(&fake, AGENT, APP_SECRET);
    client.jsapi_ticket(TicketKind::Agent).await.unwrap();
}

#[tokio::test]
async fn a_rejected_token_is_refreshed_and_busy_is_retried() {
    let (fake, _contact) = spawn().await;
    let client = app_client(&fake, AGENT, APP_SECRET);
    client.access_token().await.unwrap();
    fake.expire_tokens();
    client.jsapi_ticket(TicketKind::Corp).await.unwrap();
    // 1 answered 42001 + 1 retry with the new token.
    assert_eq!(fake.calls(PATH_GET_JSAPI_TICKET), 2);
    assert_eq!(fake.calls(GETTOKEN), 2);
    fake.fail_next(PATH_TICKET_GET, codes::SYSTEM_BUSY, 1);
    client.jsapi_ticket(TicketKind::Agent).await.unwrap();
    assert_eq!(fake.calls(PATH_TICKET_GET), 2);
    assert_eq!(fake.jsapi_ticket_fetches(), 2);
}

#[tokio::test]
async fn an_app_gets_100_tickets_an_hour() {
    let (fake, _contact) = spawn().await;
    let client = app_client(&fake, AGENT, APP_SECRET);
    for _ in 0..MAX_TICKET_FETCHES_PER_APP_PER_HOUR {
        client.invalidate_jsapi_ticket(TicketKind::Agent).await;
        client.jsapi_ticket(TicketKind::Agent).await.unwrap();
    }
    client.invalidate_jsapi_ticket(TicketKind::Agent).await;
    let error = client.jsapi_ticket(TicketKind::Agent).await.unwrap_err();
    assert_eq!(error.errcode(), Some(codes::FREQUENCY_LIMIT), "{error}");
    // Answered at once: a 45009 of the hourly quota is not retried.
    assert_eq!(
        fake.calls(PATH_TICKET_GET),
        u64::try_from(MAX_TICKET_FETCHES_PER_APP_PER_HOUR).unwrap() + 1
    );
    // Both kinds count toward the app's 100.
    let error = client.jsapi_ticket(TicketKind::Corp).await.unwrap_err();
    assert_eq!(error.errcode(), Some(codes::FREQUENCY_LIMIT), "{error}");
    assert_eq!(
        fake.jsapi_ticket_fetches(),
        MAX_TICKET_FETCHES_PER_APP_PER_HOUR
    );
    // Another app has its own 100.
    let other = app_client(&fake, AGENT + 1, "another-app-secret");
    other.jsapi_ticket(TicketKind::Corp).await.unwrap();
    // An hour later the first app's fetches are out of the window.
    fake.advance_clock(Duration::from_secs(3600));
    client.jsapi_ticket(TicketKind::Agent).await.unwrap();
}

#[tokio::test]
async fn a_corp_gets_400_tickets_an_hour() {
    let (fake, _contact) = spawn().await;
    let per_app = MAX_TICKET_FETCHES_PER_APP_PER_HOUR;
    let apps = MAX_TICKET_FETCHES_PER_CORP_PER_HOUR / per_app;
    for app in 0..apps {
        let agentid = AGENT + i64::try_from(app).unwrap();
        let client = app_client(&fake, agentid, &format!("app-secret-{app}"));
        for n in 0..per_app {
            // Both kinds, alternating.
            let kind = if n % 2 == 0 {
                TicketKind::Corp
            } else {
                TicketKind::Agent
            };
            client.invalidate_jsapi_ticket(kind).await;
            client.jsapi_ticket(kind).await.unwrap();
        }
    }
    assert_eq!(
        fake.jsapi_ticket_fetches(),
        MAX_TICKET_FETCHES_PER_CORP_PER_HOUR
    );
    let fresh = app_client(&fake, AGENT + 99, "a-fresh-app-secret");
    let error = fresh.jsapi_ticket(TicketKind::Agent).await.unwrap_err();
    assert_eq!(error.errcode(), Some(codes::FREQUENCY_LIMIT), "{error}");
    assert!(error.is_transient());
    fake.advance_clock(Duration::from_secs(3600));
    fresh.jsapi_ticket(TicketKind::Agent).await.unwrap();
}

/// A subscriber that writes every span and event field it sees into one string.
struct Capture(Arc<Mutex<String>>);

struct Fields<'a>(&'a Mutex<String>);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let mut out = self.0.lock().unwrap();
        let _ = write!(out, "{}={value:?} ", field.name());
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        span.record(&mut Fields(&self.0));
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        values.record(&mut Fields(&self.0));
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        event.record(&mut Fields(&self.0));
        self.0.lock().unwrap().push('\n');
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test]
async fn tickets_are_never_logged() {
    let logs = Arc::new(Mutex::new(String::new()));
    // `#[tokio::test]` runs on this thread only, fake server included.
    let _guard = tracing::subscriber::set_default(Capture(Arc::clone(&logs)));
    let (fake, contact) = spawn().await;
    let client = app_client(&fake, AGENT, APP_SECRET);
    let corp = client.jsapi_ticket(TicketKind::Corp).await.unwrap();
    fake.fail_next(PATH_TICKET_GET, codes::SYSTEM_BUSY, 1);
    let agent = client.jsapi_ticket(TicketKind::Agent).await.unwrap();
    let refused = contact.jsapi_ticket(TicketKind::Corp).await.unwrap_err();
    let logs = logs.lock().unwrap().clone();
    assert!(logs.contains("JS-SDK ticket fetched"), "{logs}");
    assert!(logs.contains(PATH_TICKET_GET), "{logs}");
    assert!(!logs.contains(&corp), "{logs}");
    assert!(!logs.contains(&agent), "{logs}");
    for printed in [format!("{client:?}"), format!("{refused} {refused:?}")] {
        assert!(!printed.contains(&corp) && !printed.contains(&agent));
    }
}
