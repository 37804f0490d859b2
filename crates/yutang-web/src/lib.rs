//! Yutang's HTTP edge (axum): `/api/v1` (JSON + OpenAPI), `/console` (server-rendered pages),
//! `/healthz`, `/readyz` and `/metrics`. Handlers are thin: parse → one use case → render.

pub mod api;
pub mod auth;
pub mod console;
pub mod error;
pub mod files;
pub mod h5;
pub mod health;
pub mod qr;
pub mod radar;
pub mod state;
pub mod wecom;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use yutang_app::App;
use yutang_app::workers::Workers;

pub use state::AppState;

/// The process-wide Prometheus recorder. Installed once: tests start many servers in one
/// process and they share it.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new();
            let builder = match builder.set_buckets_for_metric(
                Matcher::Full("http_request_duration_seconds".into()),
                &[
                    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ],
            ) {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "metrics buckets");
                    PrometheusBuilder::new()
                }
            };
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed");
            }
            handle
        })
        .clone()
}

/// The whole HTTP surface.
pub fn router(app: App) -> Router {
    router_with(app, Router::new())
}

/// The whole HTTP surface plus `extra` routes, served behind the same layers (metrics, body
/// limit, timeout, headers) and state. `yutang bench flash-sale` mounts its Redis-Lua gate
/// this way, so the two designs are compared behind one HTTP layer and token check.
pub fn router_with(app: App, extra: Router<AppState>) -> Router {
    let settings = app.settings.clone();
    let state = AppState {
        app,
        metrics: metrics_handle(),
    };
    Router::new()
        .merge(extra)
        .route("/", get(|| async { Redirect::to("/console") }))
        // Browsers ask every site for /favicon.ico; an SVG answers for both names.
        .route("/favicon.ico", get(favicon))
        .route("/favicon.svg", get(favicon))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .nest("/api/v1", api::router())
        .nest("/console", console::router())
        .nest("/h5", h5::router())
        .route(
            "/wecom/callback",
            get(wecom::verify)
                .post(wecom::receive)
                // A callback envelope is a few kilobytes; refuse anything far larger early.
                .layer(DefaultBodyLimit::max(256 * 1024)),
        )
        .fallback(not_found)
        .layer(middleware::from_fn(track))
        .layer(DefaultBodyLimit::max(settings.http.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(settings.http.request_timeout_secs),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .with_state(state)
}

async fn not_found() -> error::WebError {
    error::WebError::not_found("route")
}

/// Count and time every request by route template (never by raw path: ids would explode the
/// label space).
async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(start.elapsed().as_secs_f64());
    res
}

/// Serve until `shutdown` resolves. Tests pass a listener on port 0 and their own signal.
pub async fn launch(
    app: App,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    launch_with(app, listener, Router::new(), shutdown).await
}

/// [`launch`] with `extra` routes (see [`router_with`]).
pub async fn launch_with(
    app: App,
    listener: TcpListener,
    extra: Router<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Build the segment index before taking requests, then run the background loops (jobs,
    // index catch-up, tag rules, the WeCom inbox sweep); they stop with the server.
    let workers = match Workers::start(&app).await {
        Ok(w) => w,
        Err(e) => {
            return Err(std::io::Error::other(format!(
                "building the segment index: {e}"
            )));
        }
    };
    let router = router_with(app, extra);
    let served = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    drop(workers);
    served
}

/// Render an error as a plain response (used by console handlers for unexpected errors).
pub fn plain_error(status: StatusCode, msg: &str) -> Response {
    (status, msg.to_owned()).into_response()
}

/// The site icon (a fish in a pond), cached for a day.
async fn favicon() -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../assets/favicon.svg"),
    )
        .into_response()
}
