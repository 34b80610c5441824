//! Relay connections over keyset pagination, shared by every list of the API, and the caps of
//! the lists that have no `first`.
//!
//! A page costs one `SELECT … LIMIT first + 1` (the extra row answers `hasNextPage`), and
//! `totalCount` one `COUNT(*)` over the same scoped query, run only when it is asked for.
//!
//! Every list costs what it can return: a page counts its selection once per row of `first`
//! ([`complexity`]), a list without `first` once per row of its cap ([`capped`], [`caps`]), so
//! that aliasing or nesting a list runs into the limit instead of multiplying the rows answered.

use async_graphql::connection::{Connection, Edge};
use async_graphql::dataloader::Loader;
use async_graphql::{Context, Object, OutputType};
use std::collections::HashMap;

use sea_orm::sea_query::{Asterisk, Expr, Order, Query, SelectStatement, WindowStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, ExprTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Select,
};

use crate::cursor::{Audience, CursorKey, KeyPart, LazyCursor};
use crate::error::{ApiError, ApiResult};
use crate::loaders::{ChildCount, Loaders};

/// Page size when `first` is not given.
pub const DEFAULT_PAGE_SIZE: i32 = 20;
/// The largest page a caller may ask for.
pub const MAX_PAGE_SIZE: i32 = 100;

/// What a page costs in the complexity limit: its selection once per row it may return, so a
/// page of 100 inside a page of 100 costs ten thousand times its leaf fields. A `first` beyond
/// the maximum is refused on its own with a clearer message, so it is counted as the maximum.
pub fn complexity(first: Option<i32>, child_complexity: usize) -> usize {
    let rows = first.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE) as usize;
    rows.saturating_mul(child_complexity).saturating_add(1)
}

/// What a list without `first` costs in the complexity limit: its selection once per row it may
/// return (its cap), like a page of that size.
pub fn capped(cap: usize, child_complexity: usize) -> usize {
    cap.saturating_mul(child_complexity).saturating_add(1)
}

/// The most rows each list without `first` returns for one parent. Where the data itself bounds
/// a list (a referral's history), the bound is stated; elsewhere the loader keeps at most this
/// many rows and the field's description says which. Lists of scalars (`lifeDomains`, `scopes`,
/// `languages`, `categories`) are leaves: they cost one field and hold a few short names.
/// `officeHours` has its own cap, per call: [`crate::office_hours::MAX_SLOTS`].
pub mod caps {
    /// A referral's events: its creation and at most four changes, the longest way through the
    /// closed loop (REQUESTED → RECEIVED → ACCEPTED → IN_PROGRESS → COMPLETED). A bound of the
    /// state machine, checked by a test (`tests/api/limits.rs`), so no event is ever cut.
    pub const EVENTS_PER_REFERRAL: usize = 5;
    /// A client's help requests: the most recent.
    pub const HELP_REQUESTS_PER_CLIENT: usize = 20;
    /// A client's consents (given and revoked): the most recent.
    pub const CONSENTS_PER_CLIENT: usize = 20;
    /// A client's appointments (kept and cancelled): the latest.
    pub const APPOINTMENTS_PER_CLIENT: usize = 20;
    /// A help request's case notes: the most recent.
    pub const CASE_NOTES_PER_HELP_REQUEST: usize = 50;
    /// A client's case notes (current versions), on any help request or none: the most recent.
    pub const CASE_NOTES_PER_CLIENT: usize = 50;
    /// The versions of one case note: the most recent.
    pub const VERSIONS_PER_CASE_NOTE: usize = 20;
    /// A service's locations: the first by municipality.
    pub const LOCATIONS_PER_SERVICE: usize = 10;
    /// A service's weekly opening hours: the first by weekday and time (four a day).
    pub const OPENING_HOURS_PER_SERVICE: usize = 28;
    /// A webhook delivery's attempts: the latest (the retry schedule's default makes seven; a
    /// page of 50 deliveries with their attempts stays within the complexity limit).
    pub const ATTEMPTS_PER_DELIVERY: usize = 20;
}

/// A page of a list, as the API returns it.
pub type Page<N> = Connection<LazyCursor, N, TotalCount>;

/// The `first` / `after` arguments of a list field.
#[derive(Clone, Debug, Default)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
}

impl PageArgs {
    pub fn new(first: Option<i32>, after: Option<String>) -> Self {
        PageArgs { first, after }
    }

    /// The page size asked for, checked.
    pub fn size(&self) -> ApiResult<u64> {
        match self.first.unwrap_or(DEFAULT_PAGE_SIZE) {
            n if n < 0 => Err(ApiError::bad_input("first", "must not be negative")),
            n if n > MAX_PAGE_SIZE => {
                Err(ApiError::QueryTooComplex(format!("first: at most {MAX_PAGE_SIZE} items per page")))
            }
            n => Ok(n as u64),
        }
    }
}

/// An order a list is paged in: all columns in one direction, the last one unique (the id), so
/// that the sort key of a row pins its place exactly. `kind` names the list and its order inside
/// its cursors, so that a cursor of one order cannot page another.
pub struct Sort<E: EntityTrait> {
    pub kind: &'static str,
    pub descending: bool,
    pub columns: Vec<E::Column>,
    pub key: fn(&E::Model) -> Vec<KeyPart>,
}

/// How a list is ordered by default: all columns in one direction, the last one unique.
pub trait Keyset: EntityTrait {
    /// Names the list inside its cursors.
    const KIND: &'static str;
    const DESCENDING: bool;
    fn columns() -> Vec<Self::Column>;
    fn key(model: &Self::Model) -> Vec<KeyPart>;

    /// The default order as a value.
    fn sort() -> Sort<Self> {
        Sort { kind: Self::KIND, descending: Self::DESCENDING, columns: Self::columns(), key: Self::key }
    }
}

/// The request's cursors: sealed with the server's key for the caller's role and organisation.
#[derive(Clone)]
pub struct Cursors {
    key: CursorKey,
    audience: Audience,
}

impl Cursors {
    pub fn of(ctx: &Context<'_>) -> ApiResult<Self> {
        let key = crate::cursor_key_of(ctx)?.clone();
        Ok(Cursors { key, audience: Audience::of(crate::caller_of(ctx)?) })
    }

    /// The sort key in an `after` cursor of list `kind`, given to this caller.
    pub fn open(&self, kind: &str, after: &str) -> ApiResult<Vec<KeyPart>> {
        self.key.open(&self.audience, kind, after)
    }

    /// The cursor of a row of list `kind`, sealed when selected.
    pub fn cursor(&self, kind: &'static str, parts: Vec<KeyPart>) -> LazyCursor {
        LazyCursor::new(self.key.clone(), self.audience.clone(), kind, parts)
    }
}

/// `totalCount` of a connection, computed only when selected.
pub struct TotalCount(Total);

enum Total {
    /// A root list: one `COUNT(*)` over its scoped query.
    Query { db: DatabaseConnection, query: SelectStatement },
    /// A nested list: counted for all parents at once by a loader.
    Children(ChildCount),
    /// A root list that the kept counts answer: their sum.
    Kept { db: DatabaseConnection, counts: Condition },
}

impl TotalCount {
    /// The total of a root list: a `COUNT(*)` over its scoped, filtered query.
    pub fn of_query(db: DatabaseConnection, query: SelectStatement) -> Self {
        TotalCount(Total::Query { db, query })
    }

    /// The total of a root list that is exactly the sum of the `referral_counts` rows matching
    /// `counts` (which rows those are is the policy's to say: `policy::referral_counts`).
    pub fn of_kept_counts(db: DatabaseConnection, counts: Condition) -> Self {
        TotalCount(Total::Kept { db, counts })
    }
}

#[Object]
impl TotalCount {
    /// How many items the list holds for you, over all pages.
    async fn total_count(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        match &self.0 {
            Total::Query { db, query } => {
                let count = Query::select()
                    .expr_as(Expr::cust("COUNT(*)"), "n")
                    .from_subquery(query.clone(), "scoped")
                    .to_owned();
                let row = db.query_one(&count).await?.ok_or(ApiError::Internal)?;
                Ok(row.try_get::<i64>("", "n")?)
            }
            Total::Kept { db, counts } => {
                use entities::referral_count;
                let sum = referral_count::Entity::find()
                    .select_only()
                    // PostgreSQL sums a BIGINT as NUMERIC.
                    .column_as(Expr::cust("CAST(COALESCE(SUM(n), 0) AS BIGINT)"), "n")
                    .filter(counts.clone())
                    .into_tuple::<i64>()
                    .one(db)
                    .await?;
                Ok(sum.unwrap_or(0))
            }
            Total::Children(key) => {
                Ok(crate::loaders::request_loader(ctx)?.load_one(*key).await?.unwrap_or(0))
            }
        }
    }
}

/// Runs one page of `select` (already filtered by the policy scope and the caller's filter) in
/// the list's default order.
pub async fn page<E, N>(
    ctx: &Context<'_>,
    select: Select<E>,
    args: &PageArgs,
    node: impl Fn(E::Model) -> N,
) -> ApiResult<Page<N>>
where
    E: Keyset,
    N: OutputType,
{
    page_in(ctx, select, &E::sort(), args, node).await
}

/// Runs one page of `select` in `sort`.
pub async fn page_in<E, N>(
    ctx: &Context<'_>,
    select: Select<E>,
    sort: &Sort<E>,
    args: &PageArgs,
    node: impl Fn(E::Model) -> N,
) -> ApiResult<Page<N>>
where
    E: EntityTrait,
    N: OutputType,
{
    let size = args.size()?;
    let db = crate::db_of(ctx)?;
    let cursors = Cursors::of(ctx)?;
    let total = TotalCount(Total::Query { db: db.clone(), query: select.clone().into_query() });

    let mut select = select;
    if let Some(after) = &args.after {
        let key = cursors.open(sort.kind, after)?;
        select = select.filter(after_key(sort, key)?);
    }
    for column in &sort.columns {
        select = if sort.descending { select.order_by_desc(*column) } else { select.order_by_asc(*column) };
    }
    let mut rows = select.limit(size + 1).all(db).await?;
    let has_next = rows.len() as u64 > size;
    rows.truncate(size as usize);

    Ok(connection_of(&cursors, sort, rows, args.after.is_some(), has_next, total, node))
}

/// Builds the connection of a page of rows.
fn connection_of<E, N>(
    cursors: &Cursors,
    sort: &Sort<E>,
    rows: Vec<E::Model>,
    has_previous: bool,
    has_next: bool,
    total: TotalCount,
    node: impl Fn(E::Model) -> N,
) -> Page<N>
where
    E: EntityTrait,
    N: OutputType,
{
    let mut connection = Connection::with_additional_fields(has_previous, has_next, total);
    connection.edges.extend(
        rows.into_iter().map(|row| Edge::new(cursors.cursor(sort.kind, (sort.key)(&row)), node(row))),
    );
    connection
}

/// A page of a nested list (an organisation's services, a client's referrals), fetched by the
/// loader for page keys `K` together with the same page of every other parent in the request.
pub async fn nested_page<E, K, N>(
    ctx: &Context<'_>,
    args: PageArgs,
    page_key: impl FnOnce(u64, Option<Vec<KeyPart>>) -> K,
    total: ChildCount,
    node: impl Fn(E::Model) -> N,
) -> ApiResult<Page<N>>
where
    E: Keyset,
    N: OutputType,
    K: Clone + Eq + std::hash::Hash + Send + Sync + 'static,
    Loaders: Loader<K, Value = (Vec<E::Model>, bool), Error = ApiError>,
{
    let cursors = Cursors::of(ctx)?;
    let after = match &args.after {
        Some(cursor) => Some(cursors.open(E::KIND, cursor)?),
        None => None,
    };
    let key = page_key(args.size()?, after);
    let (rows, has_next) = crate::loaders::request_loader(ctx)?.load_one(key).await?.unwrap_or_default();
    let total = TotalCount(Total::Children(total));
    Ok(connection_of(&cursors, &E::sort(), rows, args.after.is_some(), has_next, total, node))
}

/// One page of children for each of many parents, in one query: the rows of `select` (scoped
/// and limited to the parents) are numbered per parent in the list's order with
/// `ROW_NUMBER() OVER (PARTITION BY parent …)`, and the first `size + 1` of each kept.
/// Returns each parent's rows and whether it has more.
pub async fn child_pages<E: Keyset>(
    db: &DatabaseConnection,
    select: Select<E>,
    parent: E::Column,
    parent_of: impl Fn(&E::Model) -> uuid::Uuid,
    size: u64,
    after: Option<Vec<KeyPart>>,
) -> ApiResult<HashMap<uuid::Uuid, (Vec<E::Model>, bool)>> {
    let select = match after {
        Some(key) => select.filter(after_key(&E::sort(), key)?),
        None => select,
    };
    let mut window = WindowStatement::partition_by((E::default(), parent));
    let order = if E::DESCENDING { Order::Desc } else { Order::Asc };
    for column in E::columns() {
        window.order_by((E::default(), column), order.clone());
    }
    let mut numbered = select.into_query();
    numbered.expr_window_as(Expr::cust("ROW_NUMBER()"), window, "page_row");
    let paged = Query::select()
        .column(Asterisk)
        .from_subquery(numbered, "numbered")
        .and_where(Expr::col("page_row").lte(size as i64 + 1))
        .order_by("page_row", Order::Asc)
        .to_owned();
    let statement = db.get_database_backend().build(&paged);
    let rows = E::find().from_raw_sql(statement).all(db).await?;
    let mut pages: HashMap<uuid::Uuid, (Vec<E::Model>, bool)> = HashMap::new();
    for row in rows {
        let page = pages.entry(parent_of(&row)).or_default();
        if page.0.len() as u64 == size {
            page.1 = true;
        } else {
            page.0.push(row);
        }
    }
    Ok(pages)
}

/// How many rows of `select` each parent has.
pub async fn child_counts<E: EntityTrait>(
    db: &DatabaseConnection,
    select: Select<E>,
    parent: E::Column,
) -> ApiResult<HashMap<uuid::Uuid, i64>> {
    let counts: Vec<(uuid::Uuid, i64)> = select
        .select_only()
        .column(parent)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .group_by(parent)
        .into_tuple()
        .all(db)
        .await?;
    Ok(counts.into_iter().collect())
}

/// At most `cap` rows of `select` for each parent: the first or the last of each in the order
/// of `order` (ascending, the last unique; columns of `select`'s entity or of a table it joins),
/// returned in that order per parent. One statement: the rows are numbered per parent with
/// `ROW_NUMBER() OVER (PARTITION BY parent …)`.
pub async fn capped_children<E: EntityTrait>(
    db: &DatabaseConnection,
    select: Select<E>,
    parent: E::Column,
    order: &[Expr],
    keep: Keep,
    cap: usize,
) -> ApiResult<Vec<E::Model>> {
    let (numbering, output) = match keep {
        Keep::First => (Order::Asc, Order::Asc),
        Keep::Last => (Order::Desc, Order::Desc),
    };
    let mut window = WindowStatement::partition_by((E::default(), parent));
    for expr in order {
        window.order_by_expr(expr.clone(), numbering.clone());
    }
    let mut numbered = select.into_query();
    numbered.expr_window_as(Expr::cust("ROW_NUMBER()"), window, "capped_row");
    let capped = Query::select()
        .column(Asterisk)
        .from_subquery(numbered, "numbered")
        .and_where(Expr::col("capped_row").lte(cap as i64))
        .order_by("capped_row", output)
        .to_owned();
    let statement = db.get_database_backend().build(&capped);
    Ok(E::find().from_raw_sql(statement).all(db).await?)
}

/// Which rows of each parent a capped list keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// The first in the list's order (a service's locations, by municipality).
    First,
    /// The last (a client's most recent help requests).
    Last,
}

/// The rows strictly after `key` in `sort`:
/// `(c1 > k1) OR (c1 = k1 AND c2 > k2) OR …` (with `<` for a descending list).
fn after_key<E: EntityTrait>(sort: &Sort<E>, key: Vec<KeyPart>) -> ApiResult<Condition> {
    let columns = &sort.columns;
    if key.len() != columns.len() {
        return Err(ApiError::bad_input("after", "not a cursor of this list"));
    }
    let values: Vec<sea_orm::Value> = key.into_iter().map(Into::into).collect();
    let mut any = Condition::any();
    for (i, column) in columns.iter().enumerate() {
        let mut all = Condition::all();
        for (earlier, value) in columns.iter().zip(&values).take(i) {
            all = all.add(earlier.eq(value.clone()));
        }
        let value = values[i].clone();
        all = all.add(if sort.descending { column.lt(value) } else { column.gt(value) });
        any = any.add(all);
    }
    Ok(any)
}
