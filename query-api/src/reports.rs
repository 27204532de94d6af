//! Performance reports as files: `GET /v1/reports/performance` answers CSV, XLSX or JSON for a
//! period, grouped by day, platform, campaign, ad group or segment, optionally narrowed to
//! campaigns or a platform, and optionally next to the period just before (same length). The
//! sums are the GraphQL analytics' own (`queries::grouped`), so a report's total row equals
//! `performance` over the same filter. Money columns are left out for roles that may not see
//! money, as GraphQL leaves them null.

use adflow_domain::metrics::PerformanceTotals;
use adflow_projections::analytics::queries::{self, Dimension, Filter, Granularity};
use adflow_projections::analytics::Analytics;
use adflow_projections::ProjectionError;
use chrono::{Duration, NaiveDate};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// The longest period one report covers (the analytics' own limit).
pub const MAX_REPORT_DAYS: i64 = crate::analytics::MAX_RANGE_DAYS;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Csv,
    Xlsx,
    Json,
}

impl ReportFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            ReportFormat::Csv => "text/csv; charset=utf-8",
            ReportFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            ReportFormat::Json => "application/json",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Csv => "csv",
            ReportFormat::Xlsx => "xlsx",
            ReportFormat::Json => "json",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Day,
    Platform,
    Campaign,
    AdGroup,
    Segment,
}

impl GroupBy {
    fn column(self) -> &'static str {
        match self {
            GroupBy::Day => "day",
            GroupBy::Platform => "platform",
            GroupBy::Campaign => "campaign_id",
            GroupBy::AdGroup => "ad_group",
            GroupBy::Segment => "segment_id",
        }
    }
}

/// What a report covers.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    pub tenant: Uuid,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub group_by: GroupBy,
    /// Next to the period of the same length just before.
    pub compare: bool,
    pub campaign_ids: Vec<Uuid>,
    /// `GOOGLE` or `LINKEDIN`.
    pub platform: Option<String>,
    pub format: ReportFormat,
    /// Whether money columns are in it.
    pub money: bool,
}

/// Why a request for a report is not one (answered 400 with the parameter's name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadParameter {
    pub parameter: &'static str,
    pub detail: String,
}

fn bad(parameter: &'static str, detail: impl Into<String>) -> BadParameter {
    BadParameter {
        parameter,
        detail: detail.into(),
    }
}

fn day(query: &HashMap<String, String>, name: &'static str) -> Result<NaiveDate, BadParameter> {
    let text = query
        .get(name)
        .ok_or_else(|| bad(name, "is required (YYYY-MM-DD)"))?;
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| bad(name, format!("is not a day (YYYY-MM-DD): {text}")))?;
    crate::analytics::within_analytics_years(day, name).map_err(|e| bad(name, e.message))?;
    Ok(day)
}

/// Reads a request from the query string: `from`, `to` (required), `groupBy` (DAY, PLATFORM,
/// CAMPAIGN, AD_GROUP, SEGMENT; default CAMPAIGN), `format` (CSV, XLSX, JSON; default CSV),
/// `compare` (PREVIOUS_PERIOD), `campaignIds` (comma-separated, at most 500), `platform`.
pub fn parse(
    query: &HashMap<String, String>,
    tenant: Uuid,
    money: bool,
) -> Result<ReportRequest, BadParameter> {
    const KNOWN: [&str; 7] = [
        "from",
        "to",
        "groupBy",
        "format",
        "compare",
        "campaignIds",
        "platform",
    ];
    if let Some(unknown) = query.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(BadParameter {
            parameter: "query",
            detail: format!("unknown parameter {unknown}; known: {}", KNOWN.join(", ")),
        });
    }
    let (from, to) = (day(query, "from")?, day(query, "to")?);
    if from > to {
        return Err(bad("from", "must not be after to"));
    }
    if (to - from).num_days() >= MAX_REPORT_DAYS {
        return Err(bad(
            "to",
            format!("a report covers at most {MAX_REPORT_DAYS} days"),
        ));
    }
    let group_by = match query.get("groupBy").map(String::as_str) {
        None | Some("CAMPAIGN") => GroupBy::Campaign,
        Some("DAY") => GroupBy::Day,
        Some("PLATFORM") => GroupBy::Platform,
        Some("AD_GROUP") => GroupBy::AdGroup,
        Some("SEGMENT") => GroupBy::Segment,
        Some(other) => {
            return Err(bad(
                "groupBy",
                format!("must be DAY, PLATFORM, CAMPAIGN, AD_GROUP or SEGMENT, not {other}"),
            ))
        }
    };
    let format = match query.get("format").map(String::as_str) {
        None | Some("CSV") => ReportFormat::Csv,
        Some("XLSX") => ReportFormat::Xlsx,
        Some("JSON") => ReportFormat::Json,
        Some(other) => {
            return Err(bad(
                "format",
                format!("must be CSV, XLSX or JSON, not {other}"),
            ))
        }
    };
    let compare = match query.get("compare").map(String::as_str) {
        None | Some("NONE") => false,
        Some("PREVIOUS_PERIOD") => true,
        Some(other) => {
            return Err(bad(
                "compare",
                format!("must be NONE or PREVIOUS_PERIOD, not {other}"),
            ))
        }
    };
    let campaign_ids = match query.get("campaignIds") {
        None => vec![],
        Some(list) => list
            .split(',')
            .filter(|id| !id.is_empty())
            .map(|id| {
                Uuid::parse_str(id).map_err(|_| bad("campaignIds", format!("not an id: {id}")))
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    if campaign_ids.len() > crate::analytics::MAX_FILTER_CAMPAIGNS {
        return Err(bad("campaignIds", "at most 500 campaigns"));
    }
    let platform = match query.get("platform").map(String::as_str) {
        None => None,
        Some(p @ ("GOOGLE" | "LINKEDIN")) => Some(p.to_owned()),
        Some(other) => {
            return Err(bad(
                "platform",
                format!("must be GOOGLE or LINKEDIN, not {other}"),
            ))
        }
    };
    Ok(ReportRequest {
        tenant,
        from,
        to,
        group_by,
        compare,
        campaign_ids,
        platform,
        format,
        money,
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    /// The group's value: a day, a platform, a campaign id, an ad group, a segment id.
    pub key: String,
    /// The campaign's name, when grouped by campaign.
    pub name: Option<String>,
    pub current: PerformanceTotals,
    /// The same group in the previous period (zero where it had none), when compared.
    pub previous: Option<PerformanceTotals>,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub request: ReportRequest,
    /// The previous period, when compared.
    pub previous_period: Option<(NaiveDate, NaiveDate)>,
    pub rows: Vec<ReportRow>,
    pub total: PerformanceTotals,
    pub previous_total: Option<PerformanceTotals>,
}

async fn sums(
    analytics: &Analytics,
    request: &ReportRequest,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(String, PerformanceTotals)>, ProjectionError> {
    let filter = Filter {
        tenant_id: request.tenant,
        campaign_ids: request.campaign_ids.clone(),
        platform: request.platform.clone(),
        ad_group: None,
        segment_id: None,
        from,
        to,
    };
    let (granularity, dimension) = match request.group_by {
        GroupBy::Day => (Some(Granularity::Day), None),
        GroupBy::Platform => (None, Some(Dimension::Platform)),
        GroupBy::Campaign => (None, Some(Dimension::Campaign)),
        GroupBy::AdGroup => (None, Some(Dimension::AdGroup)),
        GroupBy::Segment => (None, Some(Dimension::Segment)),
    };
    let groups = queries::grouped(analytics, &filter, granularity, dimension).await?;
    Ok(groups
        .into_iter()
        .map(|g| {
            let key = match request.group_by {
                GroupBy::Day => chrono::DateTime::from_timestamp(g.bucket_start, 0)
                    .map(|t| t.date_naive().to_string())
                    .unwrap_or_default(),
                _ => g.key,
            };
            (key, g.totals)
        })
        .collect())
}

/// Sums the report from the analytics tables (and the campaigns' names from the read model).
pub async fn build(
    analytics: &Analytics,
    pool: &PgPool,
    request: ReportRequest,
) -> Result<Report, ProjectionError> {
    let current = sums(analytics, &request, request.from, request.to).await?;
    let length = request.to - request.from;
    let previous_period = request.compare.then(|| {
        let to = request.from - Duration::days(1);
        (to - length, to)
    });
    let previous = match previous_period {
        Some((from, to)) => Some(sums(analytics, &request, from, to).await?),
        None => None,
    };
    // A day of the previous period stands next to the day as far into the current one.
    let shift = |key: &str| -> String {
        match (request.group_by, NaiveDate::parse_from_str(key, "%Y-%m-%d")) {
            (GroupBy::Day, Ok(day)) => (day + length + Duration::days(1)).to_string(),
            _ => key.to_owned(),
        }
    };
    let mut rows: BTreeMap<String, ReportRow> = current
        .into_iter()
        .map(|(key, totals)| {
            (
                key.clone(),
                ReportRow {
                    key,
                    name: None,
                    current: totals,
                    previous: request.compare.then(PerformanceTotals::default),
                },
            )
        })
        .collect();
    for (key, totals) in previous.iter().flatten() {
        let key = shift(key);
        rows.entry(key.clone())
            .or_insert_with(|| ReportRow {
                key,
                name: None,
                current: PerformanceTotals::default(),
                previous: Some(PerformanceTotals::default()),
            })
            .previous = Some(*totals);
    }
    if request.group_by == GroupBy::Campaign {
        let ids: Vec<Uuid> = rows.keys().filter_map(|k| k.parse().ok()).collect();
        let names: Vec<(Uuid, String)> = sqlx::query_as(
            "SELECT campaign_id, name FROM campaigns WHERE tenant_id = $1 AND campaign_id = ANY($2)",
        )
        .bind(request.tenant)
        .bind(&ids)
        .fetch_all(pool)
        .await?;
        for (id, name) in names {
            if let Some(row) = rows.get_mut(&id.to_string()) {
                row.name = Some(name);
            }
        }
    }
    let rows: Vec<ReportRow> = rows.into_values().collect();
    let mut total = PerformanceTotals::default();
    let mut previous_total = request.compare.then(PerformanceTotals::default);
    for row in &rows {
        total.add(&row.current);
        if let (Some(sum), Some(previous)) = (previous_total.as_mut(), row.previous.as_ref()) {
            sum.add(previous);
        }
    }
    Ok(Report {
        request,
        previous_period,
        rows,
        total,
        previous_total,
    })
}

/// Micros as currency units, exactly (`1234567` → `1.234567`).
fn units(micros: u64) -> String {
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

/// A ratio's cell: empty where it is undefined.
fn ratio(value: Option<f64>) -> String {
    value.map(|v| format!("{v:.6}")).unwrap_or_default()
}

/// Change from `before` to `now` in percent; empty without a base.
fn change(now: u64, before: u64) -> Option<f64> {
    (before > 0).then(|| (now as f64 - before as f64) / before as f64 * 100.0)
}

/// A cell of the table: text, a whole number, a decimal (kept as its exact text), or empty.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Text(String),
    Count(u64),
    Decimal(String),
    Empty,
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Text(t) | Cell::Decimal(t) => t.clone(),
            Cell::Count(n) => n.to_string(),
            Cell::Empty => String::new(),
        }
    }
}

fn decimal(text: String) -> Cell {
    if text.is_empty() {
        Cell::Empty
    } else {
        Cell::Decimal(text)
    }
}

/// The header and the rows (the total last) every format shares.
fn table(report: &Report) -> (Vec<String>, Vec<Vec<Cell>>) {
    let money = report.request.money;
    let mut header = vec![report.request.group_by.column().to_owned()];
    if report.request.group_by == GroupBy::Campaign {
        header.push("campaign_name".into());
    }
    let metric_columns = |prefix: &str| {
        let mut columns = vec![
            format!("{prefix}impressions"),
            format!("{prefix}clicks"),
            format!("{prefix}conversions"),
        ];
        if money {
            columns.extend([format!("{prefix}spend"), format!("{prefix}revenue")]);
        }
        columns.extend([format!("{prefix}ctr"), format!("{prefix}conversion_rate")]);
        if money {
            columns.extend([
                format!("{prefix}cpc"),
                format!("{prefix}cpa"),
                format!("{prefix}roas"),
            ]);
        }
        columns
    };
    header.extend(metric_columns(""));
    if report.request.compare {
        header.extend(metric_columns("previous_"));
        header.extend(["impressions_change_pct".into(), "clicks_change_pct".into()]);
        header.push("conversions_change_pct".into());
        if money {
            header.push("spend_change_pct".into());
        }
    }
    let metrics = |t: &PerformanceTotals| {
        let mut cells = vec![
            Cell::Count(t.impressions),
            Cell::Count(t.clicks),
            Cell::Count(t.conversions),
        ];
        if money {
            cells.extend([
                Cell::Decimal(units(t.cost_micros)),
                Cell::Decimal(units(t.revenue_micros)),
            ]);
        }
        cells.extend([decimal(ratio(t.ctr())), decimal(ratio(t.conversion_rate()))]);
        if money {
            cells.extend([
                decimal(ratio(t.cpc_micros().map(|m| m / 1_000_000.0))),
                decimal(ratio(t.cpa_micros().map(|m| m / 1_000_000.0))),
                decimal(ratio(t.roas())),
            ]);
        }
        cells
    };
    let line = |key: Cell,
                name: Option<Cell>,
                now: &PerformanceTotals,
                before: Option<&PerformanceTotals>| {
        let mut cells = vec![key];
        if report.request.group_by == GroupBy::Campaign {
            cells.push(name.unwrap_or(Cell::Empty));
        }
        cells.extend(metrics(now));
        if let Some(before) = before {
            cells.extend(metrics(before));
            let mut pairs = vec![
                (now.impressions, before.impressions),
                (now.clicks, before.clicks),
                (now.conversions, before.conversions),
            ];
            if money {
                pairs.push((now.cost_micros, before.cost_micros));
            }
            cells.extend(pairs.into_iter().map(|(n, b)| decimal(ratio(change(n, b)))));
        }
        cells
    };
    let mut rows: Vec<Vec<Cell>> = report
        .rows
        .iter()
        .map(|row| {
            line(
                Cell::Text(row.key.clone()),
                row.name.clone().map(Cell::Text),
                &row.current,
                row.previous.as_ref(),
            )
        })
        .collect();
    rows.push(line(
        Cell::Text("TOTAL".into()),
        None,
        &report.total,
        report.previous_total.as_ref(),
    ));
    (header, rows)
}

/// The report as a file of its format.
pub fn render(report: &Report) -> Result<Vec<u8>, String> {
    let (header, rows) = table(report);
    match report.request.format {
        ReportFormat::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            writer.write_record(&header).map_err(|e| e.to_string())?;
            for row in &rows {
                writer
                    .write_record(row.iter().map(Cell::text))
                    .map_err(|e| e.to_string())?;
            }
            writer.into_inner().map_err(|e| e.to_string())
        }
        ReportFormat::Xlsx => xlsx(report, &header, &rows).map_err(|e| e.to_string()),
        ReportFormat::Json => {
            let objects: Vec<Value> = rows
                .iter()
                .map(|row| {
                    Value::Object(
                        header
                            .iter()
                            .zip(row)
                            .map(|(name, cell)| {
                                let value = match cell {
                                    Cell::Text(t) => json!(t),
                                    Cell::Count(n) => json!(n),
                                    // Money and ratios as strings: exact, as the CSV has them.
                                    Cell::Decimal(d) => json!(d),
                                    Cell::Empty => Value::Null,
                                };
                                (name.clone(), value)
                            })
                            .collect(),
                    )
                })
                .collect();
            let (total, rows) = objects.split_last().ok_or("a report has a total row")?;
            let request = &report.request;
            serde_json::to_vec_pretty(&json!({
                "from": request.from,
                "to": request.to,
                "groupBy": request.group_by.column(),
                "previousPeriod": report.previous_period.map(|(f, t)| json!({"from": f, "to": t})),
                "rows": rows,
                "total": total,
            }))
            .map_err(|e| e.to_string())
        }
    }
}

fn xlsx(
    report: &Report,
    header: &[String],
    rows: &[Vec<Cell>],
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Performance")?;
    for (column, name) in header.iter().enumerate() {
        sheet.write_string_with_format(0, column as u16, name, &bold)?;
    }
    for (index, row) in rows.iter().enumerate() {
        let line = index as u32 + 1;
        let last = index + 1 == rows.len();
        for (column, cell) in row.iter().enumerate() {
            let column = column as u16;
            match (cell, last) {
                (Cell::Text(t), true) => {
                    sheet.write_string_with_format(line, column, t, &bold)?;
                }
                (Cell::Text(t), false) => {
                    sheet.write_string(line, column, t)?;
                }
                (Cell::Count(n), _) => {
                    sheet.write_number(line, column, *n as f64)?;
                }
                (Cell::Decimal(d), _) => {
                    sheet.write_number(line, column, d.parse::<f64>().unwrap_or(f64::NAN))?;
                }
                (Cell::Empty, _) => {}
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    let period = workbook.add_worksheet();
    period.set_name("Period")?;
    period.write_string(0, 0, "from")?;
    period.write_string(0, 1, report.request.from.to_string())?;
    period.write_string(1, 0, "to")?;
    period.write_string(1, 1, report.request.to.to_string())?;
    if let Some((from, to)) = report.previous_period {
        period.write_string(2, 0, "previous_from")?;
        period.write_string(2, 1, from.to_string())?;
        period.write_string(3, 0, "previous_to")?;
        period.write_string(3, 1, to.to_string())?;
    }
    workbook.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(compare: bool, format: ReportFormat, money: bool) -> ReportRequest {
        ReportRequest {
            tenant: Uuid::nil(),
            from: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 11, 7).unwrap(),
            group_by: GroupBy::Campaign,
            compare,
            campaign_ids: vec![],
            platform: None,
            format,
            money,
        }
    }

    fn totals(impressions: u64, clicks: u64, cost_micros: u64) -> PerformanceTotals {
        PerformanceTotals {
            impressions,
            clicks,
            conversions: clicks / 10,
            cost_micros,
            revenue_micros: cost_micros * 3,
        }
    }

    #[test]
    fn the_csv_has_a_total_row_and_exact_money() {
        let report = Report {
            request: request(true, ReportFormat::Csv, true),
            previous_period: None,
            rows: vec![ReportRow {
                key: "c1".into(),
                name: Some("Brand, \"DACH\"".into()),
                current: totals(1_000, 50, 1_234_567),
                previous: Some(totals(500, 50, 1_000_000)),
            }],
            total: totals(1_000, 50, 1_234_567),
            previous_total: Some(totals(500, 50, 1_000_000)),
        };
        let csv = String::from_utf8(render(&report).unwrap()).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert!(lines[0].starts_with("campaign_id,campaign_name,impressions,clicks"));
        assert!(lines[1].starts_with("c1,\"Brand, \"\"DACH\"\"\",1000,50,5,1.234567,3.703701,"));
        assert!(lines[2].starts_with("TOTAL,,1000,50,5,1.234567"));
        assert!(
            lines[2].ends_with(",100.000000,0.000000,0.000000,23.456700"),
            "{csv}"
        );
    }

    #[test]
    fn roles_without_money_get_no_money_columns() {
        let report = Report {
            request: request(false, ReportFormat::Json, false),
            previous_period: None,
            rows: vec![],
            total: totals(10, 1, 5),
            previous_total: None,
        };
        let json: Value = serde_json::from_slice(&render(&report).unwrap()).unwrap();
        assert_eq!(json["total"]["impressions"], 10);
        assert!(json["total"].get("spend").is_none(), "{json}");
        assert_eq!(json["rows"], json!([]));
    }

    #[test]
    fn parameters_are_checked() {
        let q = |pairs: &[(&str, &str)]| {
            let map: HashMap<String, String> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            parse(&map, Uuid::nil(), true)
        };
        assert!(q(&[("from", "2026-11-01"), ("to", "2026-11-30")]).is_ok());
        assert_eq!(q(&[("to", "2026-11-30")]).unwrap_err().parameter, "from");
        assert_eq!(
            q(&[("from", "2026-11-02"), ("to", "2026-11-01")])
                .unwrap_err()
                .parameter,
            "from"
        );
        assert_eq!(
            q(&[
                ("from", "2026-11-01"),
                ("to", "2026-11-30"),
                ("format", "PDF")
            ])
            .unwrap_err()
            .parameter,
            "format"
        );
        assert_eq!(
            q(&[("from", "2026-11-01"), ("to", "2026-11-30"), ("x", "1")])
                .unwrap_err()
                .parameter,
            "query"
        );
        assert_eq!(
            q(&[("from", "1900-01-01"), ("to", "2026-11-30")])
                .unwrap_err()
                .parameter,
            "from"
        );
    }
}
