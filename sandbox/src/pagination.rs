//! The pagination envelope of every list endpoint.
//!
//! Invariants: `page` is at least 1 and `per_page` 1 to the profile's
//! `max_per_page` (100 by default; default 20), or
//! the request is a 422; `last_page` is at least 1; links are absolute,
//! keep the request's other query parameters, and are `null` where there is
//! no such page.

use booking_core::api::{Page, PageLinks, PageMeta};
use chrono::NaiveDate;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, Connection, Row};

use super::extract::QueryParams;
use super::validate::Validator;
use super::AppState;

/// Items per page when the request does not say.
pub(crate) const DEFAULT_PER_PAGE: i64 = 20;

/// Which page a list request asks for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageRequest {
    /// Page number from 1.
    pub page: i64,
    /// Items per page.
    pub per_page: i64,
}

impl PageRequest {
    /// Reads `page` and `per_page` (at most `max_per_page`, the profile's),
    /// recording errors in `validator`.
    pub(crate) fn from_query(
        query: &QueryParams,
        validator: &mut Validator,
        max_per_page: u32,
    ) -> PageRequest {
        let page = validator
            .query_integer(query.get("page"), "page", 1, 1_000_000)
            .unwrap_or(1);
        let per_page = validator
            .query_integer(
                query.get("per_page"),
                "per_page",
                1,
                i64::from(max_per_page),
            )
            .unwrap_or(DEFAULT_PER_PAGE);
        PageRequest { page, per_page }
    }

    /// SQL `LIMIT` value.
    pub(crate) fn limit(self) -> i64 {
        self.per_page
    }

    /// SQL `OFFSET` value.
    pub(crate) fn offset(self) -> i64 {
        (self.page - 1) * self.per_page
    }
}

/// The `WHERE` clause of a list query, built from the filters the request
/// names, with its parameters in the same order. No filter selects every row.
#[derive(Default)]
pub(crate) struct Filters {
    clauses: Vec<String>,
    values: Vec<SqlValue>,
}

impl Filters {
    /// Starts with one condition and its parameter.
    pub(crate) fn new(clause: &str, value: SqlValue) -> Filters {
        Filters {
            clauses: vec![clause.to_owned()],
            values: vec![value],
        }
    }

    /// Adds a condition without a parameter.
    pub(crate) fn and(&mut self, clause: impl Into<String>) {
        self.clauses.push(clause.into());
    }

    /// Adds a condition with one `?` parameter when the request gave one.
    pub(crate) fn and_some(&mut self, clause: &str, value: Option<SqlValue>) {
        if let Some(value) = value {
            self.clauses.push(clause.to_owned());
            self.values.push(value);
        }
    }

    /// Adds `column >= from` and `column <= to` (UK dates as stored) for
    /// the bounds the request gave.
    pub(crate) fn and_dates(
        &mut self,
        column: &str,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) {
        self.and_some(
            &format!("{column} >= ?"),
            from.map(|from| SqlValue::Text(from.to_string())),
        );
        self.and_some(
            &format!("{column} <= ?"),
            to.map(|to| SqlValue::Text(to.to_string())),
        );
    }
}

/// Counts the rows `from` and `filters` select, then reads the requested
/// page of them: `select` columns, in `order`, each row read by `read`.
pub(crate) fn count_and_page<T>(
    conn: &Connection,
    select: &str,
    from: &str,
    filters: Filters,
    order: &str,
    request: PageRequest,
    read: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<(i64, Vec<T>)> {
    let filter = if filters.clauses.is_empty() {
        "1".to_owned()
    } else {
        filters.clauses.join(" AND ")
    };
    let total: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) {from} WHERE {filter}"))?
        .query_row(params_from_iter(filters.values.iter()), |row| row.get(0))?;
    let mut values = filters.values;
    values.push(SqlValue::Integer(request.limit()));
    values.push(SqlValue::Integer(request.offset()));
    let rows = conn
        .prepare_cached(&format!(
            "{select} {from} WHERE {filter} ORDER BY {order} LIMIT ? OFFSET ?"
        ))?
        .query_map(params_from_iter(values.iter()), read)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((total, rows))
}

/// Wraps one page of items in the envelope, with links built from `path`
/// (e.g. `/training-events`) and the request's query.
pub(crate) fn envelope<T>(
    state: &AppState,
    path: &str,
    query: &QueryParams,
    request: PageRequest,
    total: i64,
    data: Vec<T>,
) -> Page<T> {
    let last_page = ((total + request.per_page - 1) / request.per_page).max(1);
    let link = |page: i64| {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (key, value) in query.pairs() {
            if key != "page" {
                serializer.append_pair(key, value);
            }
        }
        serializer.append_pair("page", &page.to_string());
        format!("{}?{}", state.api_url(path), serializer.finish())
    };
    Page {
        data,
        meta: PageMeta {
            current_page: u32::try_from(request.page).unwrap_or(u32::MAX),
            per_page: u32::try_from(request.per_page).unwrap_or(u32::MAX),
            last_page: u32::try_from(last_page).unwrap_or(u32::MAX),
            total: u64::try_from(total).unwrap_or(0),
        },
        links: PageLinks {
            next: (request.page < last_page).then(|| link(request.page + 1)),
            prev: (request.page > 1).then(|| link(request.page - 1)),
        },
    }
}
