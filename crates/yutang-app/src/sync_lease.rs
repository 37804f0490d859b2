//! Running a refresher under a row's sync lease (channel live codes, group live codes): see
//! [`yutang_store::sync_lease`] for the protocol.

use std::future::Future;

use yutang_store::sync_lease::{self as lease, Leased};

use crate::App;
use crate::error::Result;

/// How long a refresher may hold a row before another may take over (a node that died).
const LEASE_MS: i64 = 30_000;

/// Run `pass` under the lease of row `id` of `table`. Returns at once when another refresher
/// holds the row: it will see this caller's bump.
///
/// The holder goes again, lease renewed, for as long as the row was bumped during its pass,
/// and stops only when it gives the lease back with nothing pending (or when its lease ran out
/// and another refresher took the row over). Stopping earlier, with a bump pending and the
/// lease still held, would strand that change until the lease expired and something else
/// asked again: the caller who bumped returned at once, trusting the holder.
pub(crate) async fn under_lease<F, Fut>(
    app: &App,
    table: Leased,
    id: i64,
    mut pass: F,
) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let now = app.now();
    let mut held = now + LEASE_MS;
    if !lease::take(&app.db, table, id, now, held).await? {
        return Ok(());
    }
    loop {
        if let Err(e) = pass().await {
            lease::drop_held(&app.db, table, id, held).await?;
            return Err(e);
        }
        if lease::release(&app.db, table, id, held).await? {
            return Ok(());
        }
        let until = app.now() + LEASE_MS;
        if !lease::renew(&app.db, table, id, held, until).await? {
            return Ok(());
        }
        held = until;
    }
}
