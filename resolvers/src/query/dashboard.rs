//! Dashboards: where referrals stall and which life domains lack an answer. Every figure is a SQL
//! `GROUP BY` over the caller's scope (see `policy::dashboard_*`); for analysts, the window is one
//! calendar quarter and small counts are then withheld (see `suppression`, and
//! `docs/dashboards.md` for why both).

use std::collections::HashMap;

use async_graphql::{Context, Object};
use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use entities::{
    LifeDomain, OrganisationKind, ReferralStatus as Status, RejectionReason, help_request,
    help_request_life_domain, organisation, referral, referral_event,
};
use sea_orm::sea_query::{Alias, CaseStatement, Expr, Func, Order, Query, SimpleExpr, WindowStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, ExprTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::policy;
use crate::suppression::{CellRef, Table};
use crate::types::dashboard::{
    Dashboard, LifeDomainCount, MonthCount, PartnerFigures, RejectionCount, StatusCount,
};

#[derive(Default)]
pub struct DashboardQuery;

/// A referral open this long without a change is stalled.
const STALLED_AFTER_DAYS: i64 = 14;

#[Object]
impl DashboardQuery {
    /// Referral and help-request figures over referrals created (and help requests opened) in
    /// `[from, to)`. ADMIN sees every count, a partner its own organisation's figures, both over
    /// any window (all time when none is given). An analyst sees the network's figures for one
    /// calendar quarter (UTC): the quarter the window lies in, the current one when none is
    /// given; a window across quarters is refused. Counts from 1 to 4 are withheld for an
    /// analyst, with every count that could be worked back from the others. The window the
    /// figures cover is in `from` and `to` of the answer.
    #[graphql(visible = "crate::policy::visible::dashboard")]
    async fn dashboard(
        &self,
        ctx: &Context<'_>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> ApiResult<Dashboard> {
        let caller = crate::caller_of(ctx)?;
        let (Some(referrals), Some(help_requests)) =
            (policy::dashboard_referrals(caller), policy::dashboard_help_requests(caller))
        else {
            return Err(ApiError::Forbidden);
        };
        if let (Some(from), Some(to)) = (from, to)
            && to <= from
        {
            return Err(ApiError::bad_input("to", "must be after from"));
        }
        // Withheld counts stay withheld only if no two answers overlap: suppression within one
        // answer cannot see the difference between two windows (docs/dashboards.md).
        let suppress = policy::suppresses_small_counts(caller);
        let (from, to) = if suppress {
            let (start, end) = reporting_period(from, to, Utc::now())?;
            (Some(start), Some(end))
        } else {
            (from, to)
        };
        let db = crate::db_of(ctx)?;
        // A scope may be an OR of conditions: AND the window onto it, never add it inside.
        let referrals = Condition::all().add(referrals).add(window(referral::Column::CreatedAt, from, to));
        let help_requests =
            Condition::all().add(help_requests).add(window(help_request::Column::OpenedAt, from, to));

        let by_status: HashMap<Status, i64> = referral::Entity::find()
            .filter(referrals.clone())
            .select_only()
            .column(referral::Column::Status)
            .column_as(Expr::cust("COUNT(*)"), "n")
            .group_by(referral::Column::Status)
            .into_tuple::<(Status, i64)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let by_domain: HashMap<LifeDomain, i64> = referral::Entity::find()
            .filter(referrals.clone())
            .select_only()
            .column(referral::Column::LifeDomain)
            .column_as(Expr::cust("COUNT(*)"), "n")
            .group_by(referral::Column::LifeDomain)
            .into_tuple::<(LifeDomain, i64)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let rejections: HashMap<(LifeDomain, RejectionReason), i64> = referral::Entity::find()
            .filter(referrals.clone())
            .filter(referral::Column::Status.eq(Status::Rejected))
            .select_only()
            .column(referral::Column::LifeDomain)
            .column(referral::Column::RejectionReason)
            .column_as(Expr::cust("COUNT(*)"), "n")
            .group_by(referral::Column::LifeDomain)
            .group_by(referral::Column::RejectionReason)
            .into_tuple::<(LifeDomain, RejectionReason, i64)>()
            .all(db)
            .await?
            .into_iter()
            .map(|(domain, reason, n)| ((domain, reason), n))
            .collect();
        let help_by_domain: HashMap<LifeDomain, i64> = help_request_life_domain::Entity::find()
            .filter(
                help_request_life_domain::Column::HelpRequestId.in_subquery(
                    Query::select()
                        .column(help_request::Column::Id)
                        .from(help_request::Entity)
                        .cond_where(help_requests)
                        .to_owned(),
                ),
            )
            .select_only()
            .column(help_request_life_domain::Column::LifeDomain)
            .column_as(Expr::cust("COUNT(*)"), "n")
            .group_by(help_request_life_domain::Column::LifeDomain)
            .into_tuple::<(LifeDomain, i64)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let month = match db.get_database_backend() {
            DbBackend::Postgres => "to_char(\"referrals\".\"created_at\" AT TIME ZONE 'UTC', 'YYYY-MM')",
            _ => "strftime('%Y-%m', \"referrals\".\"created_at\")",
        };
        let mut per_month: Vec<(String, i64)> = referral::Entity::find()
            .filter(referrals.clone())
            .select_only()
            .column_as(Expr::cust(month), "month")
            .column_as(Expr::cust("COUNT(*)"), "n")
            .group_by(Expr::cust(month))
            .into_tuple()
            .all(db)
            .await?;
        per_month.sort();
        let partners = organisation::Entity::find()
            .filter(policy::dashboard_partners(caller))
            .filter(organisation::Column::Kind.ne(OrganisationKind::WelfareHouse))
            .order_by_asc(organisation::Column::Name)
            .all(db)
            .await?;
        let mut figures = partner_figures(db, referrals.clone()).await?;
        let medians = median_hours_to_accept(db, referrals).await?;
        let partners: Vec<(Uuid, Figures, Option<f64>)> = partners
            .iter()
            .map(|p| (p.id, figures.remove(&p.id).unwrap_or_default(), medians.get(&p.id).copied()))
            .collect();
        let elsewhere =
            figures.into_values().fold(Figures::default(), |sum, f| std::array::from_fn(|i| sum[i] + f[i]));

        let counts =
            Counts { by_status, by_domain, help_by_domain, per_month, rejections, partners, elsewhere };
        let mut cells = Cells::lay_out(counts);
        cells.relate();
        if suppress {
            cells.table.suppress();
        }
        Ok(cells.publish(from, to))
    }
}

/// An analyst's window: the calendar quarter (UTC) that `[from, to)` lies in, or the one holding
/// `now` when neither is given. Widened to the whole quarter, because a window inside a quarter
/// would overlap the quarter's own answer; refused when it runs into a second quarter, because
/// no single reporting period holds it.
fn reporting_period(
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> ApiResult<(DateTime<Utc>, DateTime<Utc>)> {
    let (field, anchor) = match (from, to) {
        (Some(from), _) => ("from", from),
        // `to` is not in the window: the quarter is the one holding the moment before it.
        (None, Some(to)) => ("to", to.checked_sub_signed(Duration::microseconds(1)).unwrap_or(to)),
        (None, None) => ("from", now),
    };
    let (start, end) =
        quarter_of(anchor).ok_or_else(|| ApiError::bad_input(field, "is outside the calendar"))?;
    if to.is_some_and(|to| to > end) {
        return Err(ApiError::bad_input(
            "to",
            format!(
                "an analyst's figures cover one calendar quarter (UTC): this window runs past {}, \
                 the end of the quarter that starts {}",
                end.to_rfc3339(),
                start.to_rfc3339()
            ),
        ));
    }
    Ok((start, end))
}

/// The calendar quarter (UTC) holding `moment`, as `[start, end)`.
fn quarter_of(moment: DateTime<Utc>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let first_month = moment.month0() / 3 * 3 + 1;
    let start = Utc.with_ymd_and_hms(moment.year(), first_month, 1, 0, 0, 0).single()?;
    let end = match first_month {
        10 => Utc.with_ymd_and_hms(moment.year().checked_add(1)?, 1, 1, 0, 0, 0),
        _ => Utc.with_ymd_and_hms(moment.year(), first_month + 3, 1, 0, 0, 0),
    }
    .single()?;
    Some((start, end))
}

/// `column` in `[from, to)`.
fn window(column: impl ColumnTrait, from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Condition {
    let mut condition = Condition::all();
    if let Some(from) = from {
        condition = condition.add(column.gte(from));
    }
    if let Some(to) = to {
        condition = condition.add(column.lt(to));
    }
    condition
}

/// Per recipient: received, accepted, rejected, completed, stalled.
type Figures = [i64; 5];

async fn partner_figures(db: &DatabaseConnection, scope: Condition) -> ApiResult<HashMap<Uuid, Figures>> {
    let count_where = |condition: SimpleExpr| {
        Expr::from(Func::sum(CaseStatement::new().case(condition, Expr::cust("1")).finally(Expr::cust("0"))))
    };
    let stalled_since = Utc::now() - Duration::days(STALLED_AFTER_DAYS);
    let rows: Vec<(Uuid, i64, i64, i64, i64, i64)> = referral::Entity::find()
        .filter(scope)
        .select_only()
        .column(referral::Column::RecipientId)
        .column_as(Expr::cust("COUNT(*)"), "received")
        .column_as(
            count_where(referral::Column::Status.is_in([
                Status::Accepted,
                Status::InProgress,
                Status::Completed,
            ])),
            "accepted",
        )
        .column_as(count_where(referral::Column::Status.eq(Status::Rejected)), "rejected")
        .column_as(count_where(referral::Column::Status.eq(Status::Completed)), "completed")
        .column_as(
            count_where(
                referral::Column::Status
                    .is_in(Status::OPEN.to_vec())
                    .and(referral::Column::UpdatedAt.lt(stalled_since)),
            ),
            "stalled",
        )
        .group_by(referral::Column::RecipientId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(org, a, b, c, d, e)| (org, [a, b, c, d, e])).collect())
}

/// Per recipient, the median hours from request to acceptance, in SQL on both databases: the
/// middle one or two of the ordered durations (window functions), averaged.
async fn median_hours_to_accept(db: &DatabaseConnection, scope: Condition) -> ApiResult<HashMap<Uuid, f64>> {
    let hours = match db.get_database_backend() {
        DbBackend::Postgres => {
            "EXTRACT(EPOCH FROM (\"referral_events\".\"at\" - \"referrals\".\"created_at\")) / 3600.0"
        }
        _ => "(julianday(\"referral_events\".\"at\") - julianday(\"referrals\".\"created_at\")) * 24.0",
    };
    let partition = (referral::Entity, referral::Column::RecipientId);
    let mut ordered = WindowStatement::partition_by(partition);
    ordered.order_by_expr(Expr::cust(hours), Order::Asc);
    let durations = Query::select()
        .expr_as(Expr::col(partition), Alias::new("recipient"))
        .expr_as(Expr::cust(hours), Alias::new("hours"))
        .expr_window_as(Expr::cust("ROW_NUMBER()"), ordered, Alias::new("position"))
        .expr_window_as(Expr::cust("COUNT(*)"), WindowStatement::partition_by(partition), Alias::new("total"))
        .from(referral::Entity)
        .inner_join(
            referral_event::Entity,
            Expr::col((referral_event::Entity, referral_event::Column::ReferralId))
                .equals((referral::Entity, referral::Column::Id)),
        )
        .and_where(Expr::col((referral_event::Entity, referral_event::Column::ToStatus)).eq(Status::Accepted))
        .cond_where(scope)
        .to_owned();
    let median = Query::select()
        .column(Alias::new("recipient"))
        // PostgreSQL averages to NUMERIC: ask for a float on both databases.
        .expr_as(Expr::cust("CAST(AVG(hours) AS DOUBLE PRECISION)"), Alias::new("median"))
        .from_subquery(durations, Alias::new("durations"))
        .and_where(Expr::cust("position IN ((total + 1) / 2, (total + 2) / 2)"))
        .group_by_col(Alias::new("recipient"))
        .to_owned();
    let rows = db.query_all(&median).await?;
    let mut out = HashMap::new();
    for row in rows {
        let recipient: Uuid = row.try_get("", "recipient")?;
        let median: f64 = row.try_get("", "median")?;
        out.insert(recipient, (median * 10.0).round() / 10.0);
    }
    Ok(out)
}

/// The counts of one window, as SQL gave them.
struct Counts {
    by_status: HashMap<Status, i64>,
    by_domain: HashMap<LifeDomain, i64>,
    help_by_domain: HashMap<LifeDomain, i64>,
    per_month: Vec<(String, i64)>,
    rejections: HashMap<(LifeDomain, RejectionReason), i64>,
    /// Per partner shown: its figures and median hours to accept.
    partners: Vec<(Uuid, Figures, Option<f64>)>,
    /// The figures of every other recipient, summed: counted in the totals, shown nowhere.
    elsewhere: Figures,
}

/// The counts as cells of one suppression table, remembering where each one goes.
struct Cells {
    table: Table,
    total: CellRef,
    statuses: Vec<(Status, CellRef)>,
    domains: Vec<(LifeDomain, CellRef)>,
    help: Vec<(LifeDomain, CellRef)>,
    months: Vec<(String, CellRef)>,
    rejected: Vec<((LifeDomain, RejectionReason), CellRef)>,
    partners: Vec<(Uuid, [CellRef; 5], Option<f64>)>,
    elsewhere: [CellRef; 5],
}

impl Cells {
    /// One cell per count: every status and life domain (zeros included), the months and
    /// rejection reasons that occur, and the partners' figures.
    fn lay_out(counts: Counts) -> Cells {
        let mut table = Table::default();
        let total = table.add(counts.by_status.values().sum());
        let statuses = Status::ALL
            .iter()
            .map(|&s| (s, table.add(counts.by_status.get(&s).copied().unwrap_or(0))))
            .collect();
        let domains = LifeDomain::ALL
            .iter()
            .map(|&d| (d, table.add(counts.by_domain.get(&d).copied().unwrap_or(0))))
            .collect();
        let help = LifeDomain::ALL
            .iter()
            .map(|&d| (d, table.add(counts.help_by_domain.get(&d).copied().unwrap_or(0))))
            .collect();
        let months = counts.per_month.into_iter().map(|(m, n)| (m, table.add(n))).collect();
        let mut rejected = Vec::new();
        for &domain in LifeDomain::ALL {
            for &reason in RejectionReason::ALL {
                if let Some(&n) = counts.rejections.get(&(domain, reason)) {
                    rejected.push(((domain, reason), table.add(n)));
                }
            }
        }
        let partners = counts
            .partners
            .into_iter()
            .map(|(org, figures, median)| (org, figures.map(|n| table.add(n)), median))
            .collect();
        let elsewhere = counts.elsewhere.map(|n| table.add_known(n));
        Cells { table, total, statuses, domains, help, months, rejected, partners, elsewhere }
    }

    /// Declares what adds up to what, and what cannot exceed what: every relation an analyst
    /// could use to work a withheld count back.
    fn relate(&mut self) {
        let status = |s: Status| self.statuses.iter().find(|(x, _)| *x == s).map(|(_, c)| *c);
        let statuses = |list: &[Status]| list.iter().filter_map(|&s| status(s)).collect::<Vec<_>>();
        let [received, accepted, rejected, completed, stalled] =
            std::array::from_fn(|i| self.partners.iter().map(|(_, f, _)| f[i]).collect::<Vec<_>>());
        let with_elsewhere = |mut cells: Vec<CellRef>, i: usize| {
            cells.push(self.elsewhere[i]);
            cells
        };
        let groups = vec![
            (vec![self.total], self.statuses.iter().map(|(_, c)| *c).collect()),
            (vec![self.total], self.domains.iter().map(|(_, c)| *c).collect()),
            (vec![self.total], self.months.iter().map(|(_, c)| *c).collect()),
            (statuses(&[Status::Rejected]), self.rejected.iter().map(|(_, c)| *c).collect()),
            // The partners' figures, with what went to other recipients, split the totals again.
            (vec![self.total], with_elsewhere(received, 0)),
            (
                statuses(&[Status::Accepted, Status::InProgress, Status::Completed]),
                with_elsewhere(accepted, 1),
            ),
            (statuses(&[Status::Rejected]), with_elsewhere(rejected, 2)),
            (statuses(&[Status::Completed]), with_elsewhere(completed, 3)),
        ];
        let mut bounds = vec![(statuses(Status::OPEN), with_elsewhere(stalled, 4))];
        for (_, [received, accepted, rejected, completed, stalled], _) in &self.partners {
            bounds.push((vec![*received], vec![*accepted, *rejected]));
            bounds.push((vec![*accepted], vec![*completed]));
            bounds.push((vec![*received], vec![*stalled]));
        }
        for (domain, cell) in &self.domains {
            let reasons = self.rejected.iter().filter(|((d, _), _)| d == domain).map(|(_, c)| *c);
            bounds.push((vec![*cell], reasons.collect()));
        }
        for (total, parts) in groups {
            self.table.group(total, parts);
        }
        for (whole, parts) in bounds {
            self.table.within(whole, parts);
        }
    }

    /// The figures as shown: a withheld count is null with `suppressed: true`.
    fn publish(self, from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Dashboard {
        let cell = |c: CellRef| self.table.cells[c];
        Dashboard {
            from,
            to,
            referrals_by_status: self
                .statuses
                .iter()
                .map(|&(status, c)| StatusCount {
                    status: status.into(),
                    count: cell(c).shown(),
                    suppressed: cell(c).suppressed,
                })
                .collect(),
            referrals_by_life_domain: self
                .domains
                .iter()
                .map(|&(d, c)| LifeDomainCount {
                    life_domain: d.into(),
                    count: cell(c).shown(),
                    suppressed: cell(c).suppressed,
                })
                .collect(),
            help_requests_by_life_domain: self
                .help
                .iter()
                .map(|&(d, c)| LifeDomainCount {
                    life_domain: d.into(),
                    count: cell(c).shown(),
                    suppressed: cell(c).suppressed,
                })
                .collect(),
            referrals_per_month: self
                .months
                .iter()
                .map(|(m, c)| MonthCount {
                    month: m.clone(),
                    count: cell(*c).shown(),
                    suppressed: cell(*c).suppressed,
                })
                .collect(),
            rejections: self
                .rejected
                .iter()
                .map(|&((d, r), c)| RejectionCount {
                    life_domain: d.into(),
                    reason: r.into(),
                    count: cell(c).shown(),
                    suppressed: cell(c).suppressed,
                })
                .collect(),
            partners: self
                .partners
                .iter()
                .map(|&(org, [received, accepted, rejected, completed, stalled], median)| {
                    let any = [received, accepted, rejected, completed, stalled]
                        .iter()
                        .any(|&c| cell(c).suppressed);
                    PartnerFigures {
                        organisation_id: org,
                        received: cell(received).shown(),
                        accepted: cell(accepted).shown(),
                        rejected: cell(rejected).shown(),
                        completed: cell(completed).shown(),
                        stalled: cell(stalled).shown(),
                        // A median over a withheld number of acceptances would describe few people.
                        median_hours_to_accept: median.filter(|_| !cell(accepted).suppressed),
                        suppressed: any,
                    }
                })
                .collect(),
            total_referrals: cell(self.total).shown(),
        }
    }
}
