use metrics_exporter_prometheus::PrometheusHandle;
use yutang_app::App;

/// Shared state of every handler: the application and the metrics registry.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub metrics: PrometheusHandle,
}
