//! Relay connections over keyset pagination, shared by every list of the API.
//!
//! A page costs one `SELECT … LIMIT first + 1` (the extra row answers `hasNextPage`), and
//! `totalCount` one `COUNT(*)` over the same scoped query, run only when it is asked for.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Object, OutputType};
use sea_orm::sea_query::{Expr, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Select,
};

use crate::cursor::KeyPart;
use crate::error::{ApiError, ApiResult};

/// Page size when `first` is not given.
pub const DEFAULT_PAGE_SIZE: i32 = 20;
/// The largest page a caller may ask for.
pub const MAX_PAGE_SIZE: i32 = 100;

/// A page of a list, as the API returns it.
pub type Page<N> = Connection<String, N, TotalCount>;

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

    fn size(&self) -> ApiResult<u64> {
        match self.first.unwrap_or(DEFAULT_PAGE_SIZE) {
            n if n < 0 => Err(ApiError::bad_input("first", "must not be negative")),
            n if n > MAX_PAGE_SIZE => Err(ApiError::QueryTooComplex(format!(
                "first: at most {MAX_PAGE_SIZE} items per page"
            ))),
            n => Ok(n as u64),
        }
    }
}

/// How a list is ordered: all columns in one direction, the last one unique (the id), so that
/// the sort key of a row pins its place exactly.
pub trait Keyset: EntityTrait {
    /// Names the list inside its cursors.
    const KIND: &'static str;
    const DESCENDING: bool;
    fn columns() -> Vec<Self::Column>;
    fn key(model: &Self::Model) -> Vec<KeyPart>;
}

/// `totalCount` of a connection, computed only when selected.
pub struct TotalCount {
    db: DatabaseConnection,
    query: SelectStatement,
}

#[Object]
impl TotalCount {
    /// How many items the list holds for you, over all pages.
    async fn total_count(&self) -> ApiResult<i64> {
        let count = Query::select()
            .expr_as(Expr::cust("COUNT(*)"), "n")
            .from_subquery(self.query.clone(), "scoped")
            .to_owned();
        let row = self.db.query_one(&count).await?.ok_or(ApiError::Internal)?;
        Ok(row.try_get::<i64>("", "n")?)
    }
}

/// Runs one page of `select` (already filtered by the policy scope and the caller's filter).
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
    let size = args.size()?;
    let db = crate::db_of(ctx)?;
    let cursors = crate::cursor_key_of(ctx)?;
    let total = TotalCount {
        db: db.clone(),
        query: select.clone().into_query(),
    };

    let mut select = select;
    if let Some(after) = &args.after {
        let key = cursors.open(E::KIND, after)?;
        select = select.filter(after_key::<E>(key)?);
    }
    for column in E::columns() {
        select = if E::DESCENDING {
            select.order_by_desc(column)
        } else {
            select.order_by_asc(column)
        };
    }
    let mut rows = select.limit(size + 1).all(db).await?;
    let has_next = rows.len() as u64 > size;
    rows.truncate(size as usize);

    let mut connection = Connection::with_additional_fields(args.after.is_some(), has_next, total);
    connection.edges.extend(
        rows.into_iter()
            .map(|row| Edge::new(cursors.seal(E::KIND, &E::key(&row)), node(row))),
    );
    Ok(connection)
}

/// The rows strictly after `key` in the list's order:
/// `(c1 > k1) OR (c1 = k1 AND c2 > k2) OR …` (with `<` for a descending list).
fn after_key<E: Keyset>(key: Vec<KeyPart>) -> ApiResult<Condition> {
    let columns = E::columns();
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
        all = all.add(if E::DESCENDING {
            column.lt(value)
        } else {
            column.gt(value)
        });
        any = any.add(all);
    }
    Ok(any)
}
