//! 分享: a campaign's customer link (its H5 page) as a QR code — SVG, and PNG for print — and
//! a poster (SVG), at `/console/promotions/{what}/{id}/share`, drawn by [`crate::qr`]. Links
//! start at `h5.public_url`; when it is unset they start at the request's `Host`, and the
//! page says so (a poster printed from a laptop at localhost would lead nowhere).
//!
//! Whoever may see the promotions list may open these; archived campaigns have no page to
//! link to (their H5 page is gone) and answer 404.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use yutang_app::AppError;
use yutang_core::promotions::Window;
use yutang_core::promotions::coupons::{CouponKind, Validity};
use yutang_core::time::Millis;

use super::layout::error_page;
use super::{Console, Ctx, Lang, Tr, render};
use crate::files::Disposition;
use crate::qr::{Matrix, Poster};
use crate::state::AppState;

/// A campaign ready to share: its link, its QR matrix and its poster's texts.
struct Shared {
    /// The path segment: `coupons`, `flash-sales`, `group-buys`.
    what: &'static str,
    id: i64,
    name: String,
    url: String,
    /// The `Host` the link was built from, when `h5.public_url` is unset.
    host_fallback: Option<String>,
    matrix: Matrix,
    poster: Poster,
}

impl Shared {
    /// `flash-sale-12-qr.png`: ASCII, so every browser keeps it.
    fn filename(&self, file: &str) -> String {
        format!("{}-{}-{file}", self.what.trim_end_matches('s'), self.id)
    }
}

/// The customer-facing origin: `h5.public_url`, else this request's scheme and `Host`
/// (`https` when the session cookie is marked Secure, i.e. the console is served over HTTPS).
/// The second value is the host used, for the page's notice.
pub(crate) fn origin(s: &AppState, headers: &HeaderMap) -> (String, Option<String>) {
    if let Some(base) = s.app.settings.h5.public_base() {
        return (base.to_owned(), None);
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or(&s.app.settings.listen)
        .to_owned();
    let scheme = if s.app.settings.auth.cookie_secure {
        "https"
    } else {
        "http"
    };
    (format!("{scheme}://{host}"), Some(host))
}

/// `2026-12-01 10:00` in Asia/Shanghai.
pub(super) fn minute(ms: i64) -> String {
    let t = Millis(ms).to_shanghai_string();
    t.get(..16).unwrap_or(&t).to_owned()
}

/// Yuan without a `.00`: `199`, `12.50`.
fn short_yuan(fen: i64) -> String {
    let y = yutang_core::money::Fen(fen).to_string();
    y.strip_suffix(".00").map(str::to_owned).unwrap_or(y)
}

/// `v` hundredths (`places` 2) or tenths (1) as a decimal without trailing zeros: `850`, 2 →
/// `8.5` (折); `150`, 1 → `15` (% off).
fn decimal(v: i64, places: u32) -> String {
    let d = 10_i64.pow(places);
    let frac = (v % d).abs();
    if frac == 0 {
        return (v / d).to_string();
    }
    let digits = format!("{frac:0width$}", width = places as usize);
    format!("{}.{}", v / d, digits.trim_end_matches('0'))
}

/// One coupon's face value, in the H5 pages' words (`满199减40`, `8.5折，最多减20`).
fn benefit(tr: Tr, k: &CouponKind) -> String {
    match k {
        CouponKind::AmountOff {
            off_fen,
            threshold_fen,
        } if *threshold_fen > 0 => tr.fill(
            "h5.js.amount_off_over",
            &[
                ("t", &short_yuan(*threshold_fen)),
                ("o", &short_yuan(*off_fen)),
            ],
        ),
        CouponKind::AmountOff { off_fen, .. } => {
            tr.fill("h5.js.amount_off", &[("o", &short_yuan(*off_fen))])
        }
        CouponKind::Discount {
            rate_permille,
            cap_fen,
            ..
        } => tr.fill(
            "h5.js.discount",
            &[
                ("r", &decimal(*rate_permille, 2)),
                ("p", &decimal(1000 - *rate_permille, 1)),
                ("c", &short_yuan(*cap_fen)),
            ],
        ),
        CouponKind::FreeShipping { threshold_fen } if *threshold_fen > 0 => tr.fill(
            "h5.js.free_shipping_over",
            &[("t", &short_yuan(*threshold_fen))],
        ),
        CouponKind::FreeShipping { .. } => tr.t("h5.js.free_shipping").to_owned(),
        CouponKind::Exchange { item_name, .. } => {
            tr.fill("h5.js.exchange", &[("i", item_name.as_str())])
        }
    }
}

fn window_text(tr: Tr, key: &str, w: &Window) -> String {
    tr.fill(
        key,
        &[("a", &minute(w.starts_at.0)), ("b", &minute(w.ends_at.0))],
    )
}

fn price(fen: i64) -> String {
    format!("¥{}", yutang_core::money::Fen(fen))
}

/// Load an active campaign the caller may see and put together what its share page and files
/// show, in the console's language.
async fn load(
    s: &AppState,
    c: &Console,
    headers: &HeaderMap,
    what: &str,
    id: i64,
) -> Result<Shared, AppError> {
    let a = &c.session.actor;
    let tr = c.ctx.tr;
    let lang = if c.ctx.lang == Lang::Zh {
        "zh-CN"
    } else {
        "en"
    };
    let (base, host_fallback) = origin(s, headers);
    let gone = |what| AppError::NotFound { what };
    let (what, name, path, poster) = match what {
        "coupons" => {
            let t = s.app.coupons().coupon_template(a, id).await?;
            if t.row.status != "active" {
                return Err(gone("coupon template"));
            }
            let validity = match &t.spec.validity {
                Validity::DaysFromClaim { days } => {
                    tr.fill("share.valid_days", &[("n", &days.to_string())])
                }
                Validity::Fixed { starts_at, ends_at } => tr.fill(
                    "share.valid_fixed",
                    &[("a", &minute(starts_at.0)), ("b", &minute(ends_at.0))],
                ),
            };
            let face: Vec<String> = t.spec.steps.iter().map(|k| benefit(tr, k)).collect();
            let poster = Poster {
                lang,
                kind: tr.t("share.kind_coupon").to_owned(),
                name: t.row.name.clone(),
                item: None,
                price_label: String::new(),
                price: face.join(" / "),
                original: None,
                notes: vec![validity],
                window: window_text(tr, "share.claim_window", &t.spec.claim_window),
                scan: String::new(),
                url: String::new(),
            };
            (
                "coupons",
                t.row.name,
                format!("/h5/coupons?template={id}"),
                poster,
            )
        }
        "flash-sales" => {
            let v = s.app.flash_sales().flash_sale_for_staff(a, id).await?;
            if v.row.status != "active" {
                return Err(gone("flash sale"));
            }
            let poster = Poster {
                lang,
                kind: tr.t("share.kind_flash").to_owned(),
                name: v.row.name.clone(),
                item: Some(v.spec.item_name.clone()),
                price_label: tr.t("share.flash_price").to_owned(),
                price: price(v.spec.price_fen),
                original: Some(tr.fill(
                    "share.original",
                    &[("p", &price(v.spec.original_price_fen))],
                )),
                notes: vec![tr.fill(
                    "share.per_customer",
                    &[("n", &v.spec.per_customer.to_string())],
                )],
                window: window_text(tr, "share.window", &v.spec.window),
                scan: String::new(),
                url: String::new(),
            };
            (
                "flash-sales",
                v.row.name,
                format!("/h5/flash-sales/{id}"),
                poster,
            )
        }
        "group-buys" => {
            let v = s.app.group_buys().group_buy_for_staff(a, id).await?;
            if v.row.status != "active" {
                return Err(gone("group buy"));
            }
            let mut notes =
                vec![tr.fill("share.team_size", &[("n", &v.spec.team_size.to_string())])];
            if v.spec.leader_discount_fen > 0 {
                notes.push(tr.fill(
                    "share.leader_off",
                    &[("p", &price(v.spec.leader_discount_fen))],
                ));
            }
            let poster = Poster {
                lang,
                kind: tr.t("share.kind_group").to_owned(),
                name: v.row.name.clone(),
                item: Some(v.spec.item_name.clone()),
                price_label: tr.t("share.group_price").to_owned(),
                price: price(v.spec.price_fen),
                original: Some(tr.fill(
                    "share.original",
                    &[("p", &price(v.spec.original_price_fen))],
                )),
                notes,
                window: window_text(tr, "share.window", &v.spec.window),
                scan: String::new(),
                url: String::new(),
            };
            (
                "group-buys",
                v.row.name,
                format!("/h5/group-buys/{id}"),
                poster,
            )
        }
        _ => return Err(gone("page")),
    };
    let url = format!("{base}{path}");
    let matrix =
        Matrix::new(&url).map_err(|e| AppError::Internal(format!("QR code for {url}: {e}")))?;
    Ok(Shared {
        what,
        id,
        name,
        poster: Poster {
            scan: tr.t("share.scan").to_owned(),
            url: url.clone(),
            ..poster
        },
        url,
        host_fallback,
        matrix,
    })
}

#[derive(Template)]
#[template(path = "console/share.html")]
struct SharePage {
    ctx: Ctx,
    name: String,
    url: String,
    host_fallback: Option<String>,
    /// `/console/promotions/{what}/{id}`: the files are under it.
    base: String,
    /// The poster, inline (escaped by [`crate::qr`]).
    poster: String,
}

impl SharePage {
    fn title(&self) -> String {
        self.ctx.tr.fill("share.title", &[("name", &self.name)])
    }

    fn host_notice(&self, host: &str) -> String {
        self.ctx.tr.fill("share.host_notice", &[("host", host)])
    }
}

pub async fn page(
    State(s): State<AppState>,
    mut c: Console,
    headers: HeaderMap,
    Path((what, id)): Path<(String, i64)>,
) -> Response {
    let sh = match load(&s, &c, &headers, &what, id).await {
        Ok(sh) => sh,
        Err(e) => return error_page(c.ctx, e),
    };
    c.ctx.active = "promotions";
    render(
        StatusCode::OK,
        &SharePage {
            ctx: c.ctx,
            base: format!("/console/promotions/{}/{}", sh.what, sh.id),
            poster: sh.poster.svg_element(&sh.matrix),
            name: sh.name,
            url: sh.url,
            host_fallback: sh.host_fallback,
        },
    )
}

/// A file to download: its type and `attachment` with a file name.
pub(super) fn download(content_type: &'static str, filename: &str, body: Vec<u8>) -> Response {
    crate::files::file(content_type, filename, Disposition::Attachment, body)
}

/// The files: `qr.svg`, `qr.png`, `poster.svg`; any other name is not found.
pub async fn file(
    State(s): State<AppState>,
    c: Console,
    headers: HeaderMap,
    Path((what, id, name)): Path<(String, i64, String)>,
) -> Response {
    if !matches!(name.as_str(), "qr.svg" | "qr.png" | "poster.svg") {
        return error_page(c.ctx, AppError::NotFound { what: "page" });
    }
    let sh = match load(&s, &c, &headers, &what, id).await {
        Ok(sh) => sh,
        Err(e) => return error_page(c.ctx, e),
    };
    const SVG: &str = "image/svg+xml; charset=utf-8";
    let filename = sh.filename(&name);
    match name.as_str() {
        "qr.png" => match sh.matrix.png() {
            Ok(png) => download("image/png", &filename, png),
            Err(e) => error_page(c.ctx, AppError::Internal(format!("QR PNG: {e}"))),
        },
        "poster.svg" => download(SVG, &filename, sh.poster.svg(&sh.matrix).into_bytes()),
        _ => download(SVG, &filename, sh.matrix.svg().into_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn face_values_read_like_the_h5_pages() {
        let (zh, en) = (Tr { lang: Lang::Zh }, Tr { lang: Lang::En });
        let discount = |rate_permille, cap_fen| CouponKind::Discount {
            rate_permille,
            cap_fen,
            threshold_fen: 0,
        };
        let cases = [
            (
                CouponKind::AmountOff {
                    off_fen: 4000,
                    threshold_fen: 19900,
                },
                "满199减40",
                "40 off orders over 199",
            ),
            (
                discount(850, 2050),
                "8.5折，最多减20.50",
                "15% off, up to 20.50",
            ),
            (
                discount(885, 1000),
                "8.85折，最多减10",
                "11.5% off, up to 10",
            ),
        ];
        for (k, want_zh, want_en) in cases {
            assert_eq!(benefit(zh, &k), want_zh);
            assert_eq!(benefit(en, &k), want_en);
        }
        assert_eq!(minute(0), "1970-01-01 08:00");
    }
}
