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

/// The data-scope condition on a customer `c`, bound as `$1` = store and `$2` = guide (NULL:
/// no limit): the customer is followed (actively) by a guide of that store, or by that guide.
/// Every scoped query of customers, orders and what hangs off them uses this one text.
macro_rules! scope_condition {
    () => {
        "($1 IS NULL OR EXISTS (SELECT 1 FROM follows f JOIN staff st ON st.id = f.staff_id \
              WHERE f.customer_id = c.id AND f.state = 'active' AND st.store_id = $1)) \
         AND ($2 IS NULL OR EXISTS (SELECT 1 FROM follows f \
              WHERE f.customer_id = c.id AND f.state = 'active' AND f.staff_id = $2))"
    };
}

/// Push the data-scope condition on a customer `c` into a `QueryBuilder` (` AND …` for the
/// parts of `$scope` that are set, none when it is unlimited): the dynamic form of
/// [`scope_condition!`] for lists whose planner must see only real predicates.
macro_rules! push_scope {
    ($qb:ident, $scope:expr) => {{
        let scope: &$crate::customers::Scope = $scope;
        if let Some(store) = scope.store {
            $qb.push(
                " AND EXISTS (SELECT 1 FROM follows f JOIN staff st ON st.id = f.staff_id \
                 WHERE f.customer_id = c.id AND f.state = 'active' AND st.store_id = ",
            )
            .push_bind(store)
            .push(")");
        }
        if let Some(guide) = scope.guide {
            $qb.push(
                " AND EXISTS (SELECT 1 FROM follows f \
                 WHERE f.customer_id = c.id AND f.state = 'active' AND f.staff_id = ",
            )
            .push_bind(guide)
            .push(")");
        }
    }};
}
