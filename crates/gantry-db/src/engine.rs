//! What differs between the two engines in a query's text, kept in one place: choosing a
//! query's form for the connection's engine (`by_engine!`, `backend_of`) and sets of ids passed
//! as one parameter (`id_set!`, filled by [`id_list`]).
//!
//! A set of ids travels as a JSON array, `[1,2,3]`, which `json_each` reads on SQLite and
//! `json_array_elements_text` on PostgreSQL: `x IN id_set` is then a lookup each engine answers
//! from an index, where matching a `,1,2,3,` text with `LIKE` read every row of the table.

use crate::{Backend, Conn};

/// Ids as the JSON array an `id_set!` parameter takes: `[1,2,3]` (`[]` for none).
pub(crate) fn id_list(ids: impl IntoIterator<Item = i64>) -> String {
    let mut list = String::from("[");
    for (index, id) in ids.into_iter().enumerate() {
        if index > 0 {
            list.push(',');
        }
        list.push_str(&id.to_string());
    }
    list.push(']');
    list
}

// The ids of the parameter `$p` (an `id_list`) as a subquery, for `x IN id_set!(engine, "$p")`.
macro_rules! id_set {
    (sqlite, $p:literal) => {
        concat!("(SELECT value FROM json_each(", $p, "))")
    };
    (postgres, $p:literal) => {
        concat!("(SELECT CAST(value AS BIGINT) FROM json_array_elements_text(CAST(", $p, " AS json)))")
    };
}
pub(crate) use id_set;

// One of a query's two forms, `$sql!(sqlite)` or `$sql!(postgres)`, for the engine; further
// arguments are passed on after the engine.
macro_rules! by_engine {
    ($backend:expr, $sql:ident $(, $more:tt)*) => {
        match $backend {
            crate::Backend::Sqlite => $sql!(sqlite $(, $more)*),
            crate::Backend::Postgres => $sql!(postgres $(, $more)*),
        }
    };
}
pub(crate) use by_engine;

/// Which engine a connection talks to.
pub(crate) fn backend_of(conn: &Conn) -> Backend {
    if conn.backend_name().eq_ignore_ascii_case("sqlite") { Backend::Sqlite } else { Backend::Postgres }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_lists_are_json_arrays() {
        assert_eq!(id_list([]), "[]");
        assert_eq!(id_list([7]), "[7]");
        assert_eq!(id_list([1, -2, 30]), "[1,-2,30]");
    }
}
