/// Run the same body against whichever engine `$db` holds, binding the concrete pool to
/// `$pool`. The body is written once and compiled twice, once per engine, so both copies are
/// type-checked; engine-specific SQL goes in an explicit `match` instead.
macro_rules! db_run {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}
