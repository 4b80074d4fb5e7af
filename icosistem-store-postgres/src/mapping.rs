//! The declarative row mapping of the entities.
//!
//! Every entity states its table and its columns once, inside its `impl PgEntity`, with
//! [`pg_mapping!`]: one line a field, naming the column (the field's own name unless renamed
//! with `as "column"`) and how the value converts. The macro derives `TABLE`, `COLUMNS`,
//! `SOFT_DELETE`, `bind_row` and `from_row` from that one list, so a column cannot be selected
//! without being bound, bound at another position than it is listed, or decoded under another
//! name; a column listed twice fails the build. [`filter_eq!`] turns a filter's equality
//! fields into conditions with the same conversions.
//!
//! The conversion kinds (the field's type, and its SQL type):
//!
//! | kind | Rust | SQL |
//! | --- | --- | --- |
//! | `id` / `opt_id` / `ids` | an id newtype / `Option` of one / `Vec` of them | `UUID` / `UUID[]` |
//! | `value` | anything sqlx encodes and decodes as is (`String`, `bool`, times, `Uuid`, `Vec<String>`, JSON values …) | its own |
//! | `text` / `opt_text` / `texts` | an enum or value type with `as_str` and `FromStr` / `Option` / `Vec` | `TEXT` / `TEXT[]` |
//! | `int` / `opt_int` | an [`Unsigned`] / `Option` of one | `INTEGER`, saturating |
//! | `bigint` | an [`Unsigned`] | `BIGINT` |
//! | `json` / `opt_json` | a serde type / `Option` of one (`None` is SQL NULL, not JSON `null`) | `JSONB` |
//! | `money` | `Option<Money>` | `<field>_amount_minor BIGINT`, `<field>_currency TEXT` |
//! | `nested(T)` | a [`Columns`] value spread over several columns | [`Columns::COLUMNS`] |
//! | `with(to, from)` | anything: `to(&value)` binds it, `from(row, column)` decodes it | its own |

use icosistem_core::model::value::{Currency, Money, Percent, Score};
use icosistem_core::model::{Deletion, Meta};
use sqlx::postgres::PgRow;
use sqlx::query_builder::Separated;
use sqlx::{Postgres, Row};

use crate::entity::parse_opt;
use crate::error::decode_error;

/// A value spread over several columns (tracking, soft deletion, a stored file …), mapped once
/// and held by entities through the `nested(Type)` kind of [`pg_mapping!`] (which writes the
/// items below but `SOFT_DELETE`).
pub(crate) trait Columns: Sized {
    /// Its columns, in the order [`Columns::bind_row`] binds them.
    const COLUMNS: &'static [&'static str];
    /// Whether holding these columns makes a table soft-deleting (`deleted_at`).
    const SOFT_DELETE: bool = false;
    /// Binds every column value, in [`Columns::COLUMNS`] order.
    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>);
    /// Decodes the value from a row that selected its columns.
    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error>;
}

/// A non-negative number stored in an INTEGER or BIGINT column (decoded with
/// [`unsigned`](crate::entity::unsigned), which checks the range).
pub(crate) trait Unsigned: Copy + TryFrom<i64> {
    /// The value for a BIGINT column (saturating: no unsigned value here reaches `i64::MAX`).
    fn to_bigint(self) -> i64;
    /// The value for an INTEGER column. It saturates instead of wrapping, so an out-of-range
    /// value meets the column's CHECK rather than turning negative.
    fn to_int(self) -> i32 {
        i32::try_from(self.to_bigint()).unwrap_or(i32::MAX)
    }
}

macro_rules! unsigned {
    ($($ty:ty => |$v:ident| $wide:expr),+ $(,)?) => {
        $(impl Unsigned for $ty {
            fn to_bigint(self) -> i64 {
                let $v = self;
                $wide
            }
        })+
    };
}

unsigned! {
    u8 => |v| i64::from(v),
    u16 => |v| i64::from(v),
    u32 => |v| i64::from(v),
    u64 => |v| i64::try_from(v).unwrap_or(i64::MAX),
    Percent => |v| i64::from(v.get()),
    Score => |v| i64::from(v.get()),
}

/// Binds an optional amount as its two columns (`<field>_amount_minor`, `<field>_currency`).
pub(crate) fn bind_money(money: Option<Money>, row: &mut Separated<'_, Postgres, &'static str>) {
    row.push_bind(money.map(|m| m.amount_minor()))
        .push_bind(money.map(|m| m.currency().code()));
}

/// Decodes an optional amount from its two columns; the schema keeps them both set or both
/// null.
pub(crate) fn money(row: &PgRow, amount: &'static str, currency: &'static str) -> Result<Option<Money>, sqlx::Error> {
    let minor: Option<i64> = row.try_get(amount)?;
    let code = parse_opt::<Currency>(row, currency)?;
    match (minor, code) {
        (Some(minor), Some(code)) => Money::new(minor, code).map(Some).map_err(|e| decode_error(amount, e)),
        (None, None) => Ok(None),
        _ => Err(decode_error(
            currency,
            "an amount needs both its minor units and its currency",
        )),
    }
}

/// How many columns `parts` hold together.
pub(crate) const fn column_count(parts: &[&[&str]]) -> usize {
    let mut count = 0;
    let mut i = 0;
    while i < parts.len() {
        count += parts[i].len();
        i += 1;
    }
    count
}

/// The columns of `parts` one after the other. Panics (at compile time, where `COLUMNS` is
/// built) when one is listed twice: PostgreSQL would refuse the INSERT.
pub(crate) const fn concat_columns<const N: usize>(parts: &[&[&'static str]]) -> [&'static str; N] {
    let mut all = [""; N];
    let mut n = 0;
    let mut i = 0;
    while i < parts.len() {
        let mut j = 0;
        while j < parts[i].len() {
            let column = parts[i][j];
            let mut k = 0;
            while k < n {
                assert!(!same(all[k], column), "a column is mapped twice");
                k += 1;
            }
            all[n] = column;
            n += 1;
            j += 1;
        }
        i += 1;
    }
    all
}

/// `a == b`, in a `const fn`.
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The row mapping of an entity (or of a [`Columns`] value), written inside its `impl`: an
/// optional `table: "name",` (entities) then one `field [as "column"]: kind` a column; the
/// kinds are in the [module documentation](self). Generates `COLUMNS`, `bind_row` and
/// `from_row`, and with a table `TABLE` and `SOFT_DELETE` (true when a nested value is
/// soft-deleting, i.e. the entity holds a [`Deletion`]).
macro_rules! pg_mapping {
    (table: $table:literal, $($f:ident $(as $col:literal)?: $kind:ident $(($($arg:tt)*))?),+ $(,)?) => {
        const TABLE: &'static str = $table;
        const SOFT_DELETE: bool = false $(|| $crate::mapping::pg_mapping!(@soft $kind $(($($arg)*))?))+;
        $crate::mapping::pg_mapping!($($f $(as $col)?: $kind $(($($arg)*))?),+);
    };
    ($($f:ident $(as $col:literal)?: $kind:ident $(($($arg:tt)*))?),+ $(,)?) => {
        const COLUMNS: &'static [&'static str] = {
            const PARTS: &[&[&str]] = &[$($crate::mapping::pg_mapping!(@columns $f $(as $col)?: $kind $(($($arg)*))?)),+];
            &$crate::mapping::concat_columns::<{ $crate::mapping::column_count(PARTS) }>(PARTS)
        };

        fn bind_row(&self, row: &mut ::sqlx::query_builder::Separated<'_, ::sqlx::Postgres, &'static str>) {
            $($crate::mapping::pg_mapping!(@push row, self.$f, $f $(as $col)?: $kind $(($($arg)*))?);)+
        }

        fn from_row(row: &::sqlx::postgres::PgRow) -> Result<Self, ::sqlx::Error> {
            Ok(Self {
                $($f: $crate::mapping::pg_mapping!(@decode row, $f $(as $col)?: $kind $(($($arg)*))?),)+
            })
        }
    };

    // Whether a field's columns make the table soft-deleting.
    (@soft nested($t:ty)) => { <$t as $crate::mapping::Columns>::SOFT_DELETE };
    (@soft $($kind:tt)+) => { false };

    // A field's columns, as a slice.
    (@columns $f:ident $(as $col:literal)?: nested($t:ty)) => { <$t as $crate::mapping::Columns>::COLUMNS };
    (@columns $f:ident: money) => {
        &[concat!(stringify!($f), "_amount_minor"), concat!(stringify!($f), "_currency")]
    };
    (@columns $f:ident as $col:literal: $($kind:tt)+) => { &[$col] };
    (@columns $f:ident: $($kind:tt)+) => { &[stringify!($f)] };

    // Binds a field's columns.
    (@push $row:ident, $v:expr, $f:ident $(as $col:literal)?: nested($t:ty)) => {
        <$t as $crate::mapping::Columns>::bind_row(&$v, $row)
    };
    (@push $row:ident, $v:expr, $f:ident: money) => { $crate::mapping::bind_money($v, $row) };
    (@push $row:ident, $v:expr, $f:ident $(as $col:literal)?: $($kind:tt)+) => {
        $row.push_bind($crate::mapping::pg_mapping!(@bind $v, $($kind)+))
    };

    // Decodes a field from its columns.
    (@decode $row:ident, $f:ident $(as $col:literal)?: nested($t:ty)) => {
        <$t as $crate::mapping::Columns>::from_row($row)?
    };
    (@decode $row:ident, $f:ident: money) => {
        $crate::mapping::money(
            $row,
            concat!(stringify!($f), "_amount_minor"),
            concat!(stringify!($f), "_currency"),
        )?
    };
    (@decode $row:ident, $f:ident as $col:literal: $($kind:tt)+) => {
        $crate::mapping::pg_mapping!(@get $row, $col, $($kind)+)
    };
    (@decode $row:ident, $f:ident: $($kind:tt)+) => {
        $crate::mapping::pg_mapping!(@get $row, stringify!($f), $($kind)+)
    };

    // The value to bind for one single-column field (a place: `self.field`, `(*value)`).
    (@bind $v:expr, id) => { ::uuid::Uuid::from($v) };
    (@bind $v:expr, opt_id) => { $v.map(::uuid::Uuid::from) };
    (@bind $v:expr, ids) => { $v.iter().copied().map(::uuid::Uuid::from).collect::<Vec<::uuid::Uuid>>() };
    (@bind $v:expr, value) => { ::core::clone::Clone::clone(&$v) };
    (@bind $v:expr, text) => { $v.as_str().to_owned() };
    (@bind $v:expr, opt_text) => { $v.as_ref().map(|t| t.as_str().to_owned()) };
    (@bind $v:expr, texts) => { $v.iter().map(|t| t.as_str().to_owned()).collect::<Vec<String>>() };
    (@bind $v:expr, int) => { $crate::mapping::Unsigned::to_int($v) };
    (@bind $v:expr, opt_int) => { $v.map($crate::mapping::Unsigned::to_int) };
    (@bind $v:expr, bigint) => { $crate::mapping::Unsigned::to_bigint($v) };
    (@bind $v:expr, json) => { $crate::entity::to_json(&$v) };
    (@bind $v:expr, opt_json) => { $v.as_ref().map($crate::entity::to_json) };
    (@bind $v:expr, with($to:path, $from:path)) => { $to(&$v) };

    // Decodes one single-column field.
    (@get $row:ident, $col:expr, id) => { ::sqlx::Row::try_get::<::uuid::Uuid, _>($row, $col)?.into() };
    (@get $row:ident, $col:expr, opt_id) => {
        ::sqlx::Row::try_get::<Option<::uuid::Uuid>, _>($row, $col)?.map(Into::into)
    };
    (@get $row:ident, $col:expr, ids) => {
        ::sqlx::Row::try_get::<Vec<::uuid::Uuid>, _>($row, $col)?
            .into_iter()
            .map(Into::into)
            .collect()
    };
    (@get $row:ident, $col:expr, value) => { ::sqlx::Row::try_get($row, $col)? };
    (@get $row:ident, $col:expr, text) => { $crate::entity::parse($row, $col)? };
    (@get $row:ident, $col:expr, opt_text) => { $crate::entity::parse_opt($row, $col)? };
    (@get $row:ident, $col:expr, texts) => { $crate::entity::parse_all($row, $col)? };
    (@get $row:ident, $col:expr, int) => { $crate::entity::unsigned($row, $col)? };
    (@get $row:ident, $col:expr, opt_int) => { $crate::entity::unsigned_opt($row, $col)? };
    (@get $row:ident, $col:expr, bigint) => { $crate::entity::unsigned($row, $col)? };
    (@get $row:ident, $col:expr, json) => { $crate::entity::json($row, $col)? };
    (@get $row:ident, $col:expr, opt_json) => { $crate::entity::json_opt($row, $col)? };
    (@get $row:ident, $col:expr, with($to:path, $from:path)) => { $from($row, $col)? };
}
pub(crate) use pg_mapping;

/// Appends `AND column = value` for each set field of a filter, the field named like its
/// column and converted as [`pg_mapping!`] converts that column: `filter_eq!(qb, f, user_id:
/// id, status: text)`. An unset (`None`) field adds nothing. `filter_eq!(qb, "column", value)`
/// does the same for one value already converted (an `Option`).
macro_rules! filter_eq {
    ($qb:expr, $column:literal, $value:expr) => {
        if let Some(value) = $value {
            $qb.push(concat!(" AND ", $column, " = ")).push_bind(value);
        }
    };
    ($qb:expr, $filter:expr, $($field:ident: $kind:ident),+ $(,)?) => {
        $(if let Some(value) = &$filter.$field {
            $qb.push(concat!(" AND ", stringify!($field), " = "))
                .push_bind($crate::mapping::pg_mapping!(@bind (*value), $kind));
        })+
    };
}
pub(crate) use filter_eq;

impl Columns for Meta {
    pg_mapping! {
        created_at: value,
        updated_at: value,
        created_by: opt_id,
        updated_by: opt_id,
        version: bigint,
    }
}

impl Columns for Deletion {
    const SOFT_DELETE: bool = true;

    pg_mapping! {
        deleted_at: value,
        deleted_by: opt_id,
    }
}
