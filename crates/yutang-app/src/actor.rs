//! The caller of a use case as the edge saw it.

use std::ops::Deref;

use yutang_core::access::{Caller, Principal};

/// The authenticated [`Caller`] plus what the audit log needs to name them.
#[derive(Debug, Clone)]
pub struct Actor {
    pub caller: Caller,
    /// Username for staff, token name for API tokens, `system` for the command line.
    pub name: String,
    /// Client address as seen by the server (or `cli`).
    pub ip: String,
}

impl Actor {
    pub fn system() -> Self {
        Self {
            caller: Caller::system(),
            name: "system".into(),
            ip: "cli".into(),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self.caller.principal {
            Principal::Staff(_) => "staff",
            Principal::Token(_) => "token",
            Principal::System => "system",
        }
    }

    pub fn actor_id(&self) -> Option<i64> {
        match self.caller.principal {
            Principal::Staff(id) => Some(id.0),
            Principal::Token(id) => Some(id.0),
            Principal::System => None,
        }
    }
}

impl Deref for Actor {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.caller
    }
}
