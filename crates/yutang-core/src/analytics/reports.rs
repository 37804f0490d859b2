//! Scheduled reports (issue #24 item 5): the cadence of a schedule, the period a send covers,
//! and the summary text sent to staff as a WeCom app message. No I/O here.
//!
//! A **daily** report covers the previous Shanghai day and is due at the schedule's hour
//! (Asia/Shanghai) of the next day; a **weekly** one covers the previous Monday–Sunday and is
//! due on Monday at that hour. A period is named by its key: `2026-03-03` for a day,
//! `2026-03-02/2026-03-08` for a week (ISO 8601 interval notation), so the outbox's dedupe key
//! `report:{schedule_id}:{period}` is the same whoever computes it.

use serde::Serialize;

use super::{DAY_MS, SHANGHAI_OFFSET_MS, day_label, day_of};
use crate::FieldError;
use crate::money::Fen;

const HOUR_MS: i64 = 3_600_000;

/// How often a schedule sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    /// The previous Shanghai day, sent at the hour.
    Daily,
    /// The previous Monday–Sunday, sent on Monday at the hour.
    Weekly,
}

impl Cadence {
    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Daily => "daily",
            Cadence::Weekly => "weekly",
        }
    }

    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        match s {
            "daily" => Ok(Cadence::Daily),
            "weekly" => Ok(Cadence::Weekly),
            _ => Err(FieldError::new(
                field,
                "invalid_cadence",
                format!("unknown cadence {s:?}; expected daily or weekly"),
            )),
        }
    }

    /// Days in one period.
    pub fn days(self) -> i64 {
        match self {
            Cadence::Daily => 1,
            Cadence::Weekly => 7,
        }
    }
}

/// The hour of the day (Asia/Shanghai, 0–23) a schedule sends at.
pub fn parse_hour(field: &'static str, hour: i64) -> Result<i64, FieldError> {
    if (0..=23).contains(&hour) {
        Ok(hour)
    } else {
        Err(FieldError::new(
            field,
            "invalid_hour",
            "the hour is 0–23 (Asia/Shanghai)",
        ))
    }
}

/// The language of a report's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportLang {
    Zh,
    En,
}

impl ReportLang {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportLang::Zh => "zh",
            ReportLang::En => "en",
        }
    }

    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        match s {
            "zh" => Ok(ReportLang::Zh),
            "en" => Ok(ReportLang::En),
            _ => Err(FieldError::new(
                field,
                "invalid_lang",
                format!("unknown language {s:?}; expected zh or en"),
            )),
        }
    }
}

/// The days one send covers (Shanghai day numbers, both included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportPeriod {
    pub cadence: Cadence,
    pub from_day: i64,
    pub to_day: i64,
}

/// Monday = 0 … Sunday = 6 of a Shanghai day number (1970-01-01 was a Thursday).
pub fn weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

impl ReportPeriod {
    fn ending(cadence: Cadence, to_day: i64) -> Self {
        Self {
            cadence,
            from_day: to_day - cadence.days() + 1,
            to_day,
        }
    }

    /// The period's key: `2026-03-03` (a day) or `2026-03-02/2026-03-08` (a week).
    pub fn key(&self) -> String {
        match self.cadence {
            Cadence::Daily => day_label(self.from_day),
            Cadence::Weekly => format!("{}/{}", day_label(self.from_day), day_label(self.to_day)),
        }
    }

    /// `YYYY-MM-DD` of the first day.
    pub fn from_label(&self) -> String {
        day_label(self.from_day)
    }

    /// `YYYY-MM-DD` of the last day.
    pub fn to_label(&self) -> String {
        day_label(self.to_day)
    }

    /// When this period's report is due (UTC millis): the day after its last day, at `hour`
    /// Shanghai time (for a week: Monday).
    pub fn due_at(&self, hour: i64) -> i64 {
        (self.to_day + 1) * DAY_MS - SHANGHAI_OFFSET_MS + hour * HOUR_MS
    }

    /// The latest period whose report is due at `now` (its due time at or before `now`).
    pub fn due(cadence: Cadence, hour: i64, now: i64) -> Self {
        let today = day_of(now);
        let since_midnight = (now + SHANGHAI_OFFSET_MS).rem_euclid(DAY_MS);
        let before_hour = since_midnight < hour * HOUR_MS;
        match cadence {
            Cadence::Daily => Self::ending(cadence, today - 1 - i64::from(before_hour)),
            Cadence::Weekly => {
                let monday = today - weekday(today);
                // On a Monday before the hour, last week's report is not due yet.
                let back = if weekday(today) == 0 && before_hour {
                    2
                } else {
                    1
                };
                Self::ending(cadence, monday - 7 * (back - 1) - 1)
            }
        }
    }

    /// The latest completed period at `now`, whatever the hour ("send now"): yesterday, or
    /// the last full Monday–Sunday week.
    pub fn latest_completed(cadence: Cadence, now: i64) -> Self {
        let today = day_of(now);
        match cadence {
            Cadence::Daily => Self::ending(cadence, today - 1),
            Cadence::Weekly => Self::ending(cadence, today - weekday(today) - 1),
        }
    }
}

/// The dedupe key of a schedule's delivery for a period.
pub fn dedupe_key(schedule_id: i64, period: &ReportPeriod) -> String {
    format!("report:{schedule_id}:{}", period.key())
}

/// A figure and its change from the previous period (basis points; `None`: nothing before).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Figure {
    pub value: i64,
    pub change_bp: Option<i64>,
}

/// What a report says: the dashboard's figures for the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFigures {
    /// `brand`, `store` or `guide`.
    pub level: String,
    /// The store's or guide's name (empty for the brand).
    pub scope_name: String,
    /// New customers in the pool (brand only).
    pub new_customers: Option<Figure>,
    pub contacts_added: Figure,
    pub net_adds: Figure,
    pub orders: Figure,
    pub gmv_fen: Figure,
    pub net_gmv_fen: Figure,
    pub coupons_used: Figure,
    /// Coupons used per claim (brand only; `None` without claims).
    pub coupon_redemption_bp: Option<i64>,
}

/// The longest scope name a report repeats (a store or staff name; the rest is cut).
const MAX_NAME_CHARS: usize = 40;

/// `1,234.56` from fen.
pub fn yuan(fen: i64) -> String {
    let text = Fen(fen).to_string();
    let (sign, rest) = match text.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", text.as_str()),
    };
    let (int, frac) = rest.split_once('.').unwrap_or((rest, "00"));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{frac}")
}

/// `+12.5%` / `-3.0%` from basis points (toward zero, one decimal).
fn percent_change(bp: i64) -> String {
    let sign = if bp < 0 { "-" } else { "+" };
    let abs = bp.unsigned_abs();
    format!("{sign}{}.{}%", abs / 100, (abs % 100) / 10)
}

/// `12.50%` from basis points.
fn percent(bp: i64) -> String {
    let abs = bp.unsigned_abs();
    let sign = if bp < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}%", abs / 100, abs % 100)
}

/// The report's text: a title line, one line per figure with its change from the previous
/// period, and the dashboard link when there is one. At most a few hundred bytes: well within
/// WeCom's 2,048-byte text message.
pub fn summary(
    lang: ReportLang,
    schedule_name: &str,
    period: &ReportPeriod,
    f: &ReportFigures,
    link: Option<&str>,
) -> String {
    let zh = lang == ReportLang::Zh;
    let short = |s: &str| s.chars().take(MAX_NAME_CHARS).collect::<String>();
    let scope = match (f.level.as_str(), zh) {
        ("brand", true) => "全品牌".to_owned(),
        ("brand", false) => "The brand".to_owned(),
        (_, _) => short(&f.scope_name),
    };
    let when = match period.cadence {
        Cadence::Daily => period.from_label(),
        Cadence::Weekly => format!("{} ~ {}", period.from_label(), period.to_label()),
    };
    let kind = match (period.cadence, zh) {
        (Cadence::Daily, true) => "日报",
        (Cadence::Weekly, true) => "周报",
        (Cadence::Daily, false) => "Daily report",
        (Cadence::Weekly, false) => "Weekly report",
    };
    let mut out = if zh {
        format!("【{kind}】{} · {scope}\n{when}\n", short(schedule_name))
    } else {
        format!("[{kind}] {} · {scope}\n{when}\n", short(schedule_name))
    };
    let change = |fig: &Figure| match fig.change_bp {
        Some(bp) if zh => format!("（较上期 {}）", percent_change(bp)),
        Some(bp) => format!(" ({} vs previous)", percent_change(bp)),
        None => String::new(),
    };
    let mut line = |zh_label: &str, en_label: &str, value: String, fig: &Figure| {
        let label = if zh { zh_label } else { en_label };
        let sep = if zh { "：" } else { ": " };
        out.push_str(&format!("{label}{sep}{value}{}\n", change(fig)));
    };
    if let Some(n) = &f.new_customers {
        line("新增客户", "New customers", n.value.to_string(), n);
    }
    line(
        "新增企微好友",
        "New WeCom contacts",
        f.contacts_added.value.to_string(),
        &f.contacts_added,
    );
    line(
        "净增好友",
        "Net adds",
        f.net_adds.value.to_string(),
        &f.net_adds,
    );
    line("订单数", "Orders", f.orders.value.to_string(), &f.orders);
    line(
        "GMV",
        "GMV",
        format!("¥{}", yuan(f.gmv_fen.value)),
        &f.gmv_fen,
    );
    line(
        "净 GMV",
        "Net GMV",
        format!("¥{}", yuan(f.net_gmv_fen.value)),
        &f.net_gmv_fen,
    );
    let used = f.coupons_used.value.to_string();
    let used = match f.coupon_redemption_bp {
        Some(bp) if zh => format!("{used}（核销率 {}）", percent(bp)),
        Some(bp) => format!("{used} (redemption {})", percent(bp)),
        None => used,
    };
    line("券核销", "Coupons used", used, &f.coupons_used);
    match (link, zh) {
        (Some(l), true) => out.push_str(&format!("查看概览：{l}")),
        (Some(l), false) => out.push_str(&format!("Open the dashboard: {l}")),
        (None, _) => {
            while out.ends_with('\n') {
                out.pop();
            }
        }
    }
    out
}

/// The console dashboard's address for a period and scope under `base`
/// (`https://scrm.example.com`).
pub fn dashboard_link(
    base: &str,
    period: &ReportPeriod,
    store_id: Option<i64>,
    staff_id: Option<i64>,
) -> String {
    let mut link = format!(
        "{}/console?from={}&to={}",
        base.trim_end_matches('/'),
        period.from_label(),
        period.to_label()
    );
    match (staff_id, store_id) {
        (Some(g), _) => link.push_str(&format!("&staff_id={g}")),
        (None, Some(s)) => link.push_str(&format!("&store_id={s}")),
        (None, None) => {}
    }
    link
}

#[cfg(test)]
mod tests {
    use super::*;

    /// UTC millis of a Shanghai wall-clock time.
    fn sh(y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
        let date = chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let t = date.and_hms_opt(h, min, 0).unwrap();
        t.and_utc().timestamp_millis() - SHANGHAI_OFFSET_MS
    }

    fn day(y: i32, m: u32, d: u32) -> i64 {
        day_of(sh(y, m, d, 12, 0))
    }

    #[test]
    fn weekdays_start_on_monday() {
        // 2026-03-02 is a Monday, 2026-03-08 a Sunday.
        assert_eq!(weekday(day(2026, 3, 2)), 0);
        assert_eq!(weekday(day(2026, 3, 8)), 6);
        assert_eq!(weekday(0), 3, "1970-01-01 was a Thursday");
    }

    #[test]
    fn a_daily_report_covers_the_previous_shanghai_day_from_its_hour() {
        // 2026-03-04 08:59 Shanghai (00:59 UTC): the 9 o'clock send of 03-03 is not due yet.
        let p = ReportPeriod::due(Cadence::Daily, 9, sh(2026, 3, 4, 8, 59));
        assert_eq!(p.key(), "2026-03-02");
        let p = ReportPeriod::due(Cadence::Daily, 9, sh(2026, 3, 4, 9, 0));
        assert_eq!(p.key(), "2026-03-03");
        assert_eq!(p.due_at(9), sh(2026, 3, 4, 9, 0));
        // Across Shanghai midnight (16:00 UTC): 23:59 on the 3rd vs 00:00 on the 4th.
        let p = ReportPeriod::due(Cadence::Daily, 0, sh(2026, 3, 3, 23, 59));
        assert_eq!(p.key(), "2026-03-02");
        let p = ReportPeriod::due(Cadence::Daily, 0, sh(2026, 3, 4, 0, 0));
        assert_eq!(p.key(), "2026-03-03");
        assert_eq!(
            (p.from_label(), p.to_label()),
            ("2026-03-03".into(), "2026-03-03".into())
        );
        // A UTC date that differs from the Shanghai one: 2026-03-03 17:00 UTC is the 4th.
        let utc_evening = chrono::NaiveDate::from_ymd_opt(2026, 3, 3)
            .unwrap()
            .and_hms_opt(17, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        assert_eq!(
            ReportPeriod::due(Cadence::Daily, 0, utc_evening).key(),
            "2026-03-03"
        );
        assert_eq!(
            ReportPeriod::due(Cadence::Daily, 23, sh(2026, 3, 4, 22, 0)).key(),
            "2026-03-02"
        );
    }

    #[test]
    fn a_weekly_report_covers_monday_to_sunday_and_is_due_monday_at_its_hour() {
        let week = "2026-03-02/2026-03-08";
        // Monday 03-09 before 9: the week before is the latest due.
        let p = ReportPeriod::due(Cadence::Weekly, 9, sh(2026, 3, 9, 8, 0));
        assert_eq!(p.key(), "2026-02-23/2026-03-01");
        let p = ReportPeriod::due(Cadence::Weekly, 9, sh(2026, 3, 9, 9, 0));
        assert_eq!(p.key(), week);
        assert_eq!(p.due_at(9), sh(2026, 3, 9, 9, 0));
        // Any later day of that week, and Sunday night, still the same week.
        assert_eq!(
            ReportPeriod::due(Cadence::Weekly, 9, sh(2026, 3, 12, 3, 0)).key(),
            week
        );
        assert_eq!(
            ReportPeriod::due(Cadence::Weekly, 9, sh(2026, 3, 15, 23, 59)).key(),
            week
        );
        // Sunday 23:59 → Monday 00:00 with hour 0: the next week becomes due.
        assert_eq!(
            ReportPeriod::due(Cadence::Weekly, 0, sh(2026, 3, 15, 23, 59)).key(),
            week
        );
        assert_eq!(
            ReportPeriod::due(Cadence::Weekly, 0, sh(2026, 3, 16, 0, 0)).key(),
            "2026-03-09/2026-03-15"
        );
        // Across a month and a year.
        assert_eq!(
            ReportPeriod::due(Cadence::Weekly, 8, sh(2026, 1, 5, 8, 0)).key(),
            "2025-12-29/2026-01-04"
        );
    }

    #[test]
    fn send_now_takes_the_latest_completed_period_whatever_the_hour() {
        let now = sh(2026, 3, 9, 0, 5);
        assert_eq!(
            ReportPeriod::latest_completed(Cadence::Daily, now).key(),
            "2026-03-08"
        );
        assert_eq!(
            ReportPeriod::latest_completed(Cadence::Weekly, now).key(),
            "2026-03-02/2026-03-08"
        );
        assert_eq!(
            ReportPeriod::latest_completed(Cadence::Weekly, sh(2026, 3, 8, 23, 0)).key(),
            "2026-02-23/2026-03-01"
        );
        let p = ReportPeriod::latest_completed(Cadence::Daily, now);
        assert_eq!(dedupe_key(7, &p), "report:7:2026-03-08");
    }

    #[test]
    fn bad_cadences_hours_and_languages_are_refused() {
        assert_eq!(
            Cadence::parse("cadence", "monthly").unwrap_err().code,
            "invalid_cadence"
        );
        assert_eq!(parse_hour("hour", 24).unwrap_err().code, "invalid_hour");
        assert_eq!(parse_hour("hour", -1).unwrap_err().field, "hour");
        assert_eq!(parse_hour("hour", 0).unwrap(), 0);
        assert_eq!(
            ReportLang::parse("lang", "fr").unwrap_err().code,
            "invalid_lang"
        );
    }

    fn figures() -> ReportFigures {
        ReportFigures {
            level: "brand".into(),
            scope_name: String::new(),
            new_customers: Some(Figure {
                value: 12,
                change_bp: Some(2_000),
            }),
            contacts_added: Figure {
                value: 9,
                change_bp: None,
            },
            net_adds: Figure {
                value: -2,
                change_bp: Some(-15_000),
            },
            orders: Figure {
                value: 3,
                change_bp: None,
            },
            gmv_fen: Figure {
                value: 123_456_789,
                change_bp: Some(125),
            },
            net_gmv_fen: Figure {
                value: 99,
                change_bp: None,
            },
            coupons_used: Figure {
                value: 1,
                change_bp: None,
            },
            coupon_redemption_bp: Some(1_250),
        }
    }

    #[test]
    fn money_is_yuan_with_two_decimals_and_thousands() {
        assert_eq!(yuan(0), "0.00");
        assert_eq!(yuan(99), "0.99");
        assert_eq!(yuan(123_456_789), "1,234,567.89");
        assert_eq!(yuan(-100_000), "-1,000.00");
    }

    #[test]
    fn the_summary_names_the_figures_in_chinese_or_english() {
        let p = ReportPeriod::latest_completed(Cadence::Daily, sh(2026, 3, 4, 10, 0));
        let link = dashboard_link("https://scrm.example.com/", &p, None, None);
        assert_eq!(
            link,
            "https://scrm.example.com/console?from=2026-03-03&to=2026-03-03"
        );
        let zh = summary(ReportLang::Zh, "门店日报", &p, &figures(), Some(&link));
        assert_eq!(
            zh,
            "【日报】门店日报 · 全品牌\n2026-03-03\n新增客户：12（较上期 +20.0%）\n\
             新增企微好友：9\n净增好友：-2（较上期 -150.0%）\n订单数：3\n\
             GMV：¥1,234,567.89（较上期 +1.2%）\n净 GMV：¥0.99\n\
             券核销：1（核销率 12.50%）\n\
             查看概览：https://scrm.example.com/console?from=2026-03-03&to=2026-03-03"
        );
        let w = ReportPeriod::latest_completed(Cadence::Weekly, sh(2026, 3, 9, 10, 0));
        let mut f = figures();
        f.level = "store".into();
        f.scope_name = "静安店".into();
        f.new_customers = None;
        f.coupon_redemption_bp = None;
        let en = summary(ReportLang::En, "Weekly", &w, &f, None);
        assert!(en.starts_with("[Weekly report] Weekly · 静安店\n2026-03-02 ~ 2026-03-08\n"));
        assert!(
            en.contains("GMV: ¥1,234,567.89 (+1.2% vs previous)\n"),
            "{en}"
        );
        assert!(en.ends_with("Coupons used: 1"), "{en}");
        assert_eq!(
            dashboard_link("https://x", &w, Some(3), None),
            "https://x/console?from=2026-03-02&to=2026-03-08&store_id=3"
        );
        assert!(dashboard_link("https://x", &w, Some(3), Some(5)).ends_with("&staff_id=5"));
    }

    #[test]
    fn long_names_are_cut_so_the_text_stays_small() {
        let p = ReportPeriod::latest_completed(Cadence::Weekly, sh(2026, 3, 9, 10, 0));
        let mut f = figures();
        f.level = "guide".into();
        f.scope_name = "长".repeat(500);
        let link = "https://".to_owned() + &"a".repeat(200);
        let text = summary(ReportLang::Zh, &"名".repeat(500), &p, &f, Some(&link));
        assert!(text.len() < 2_048, "{}", text.len());
    }
}
