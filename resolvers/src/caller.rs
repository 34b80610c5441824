//! Who is asking: read once per request (HTTP header or WebSocket `connection_init`) from the
//! user's row, so a deactivated user or a changed role takes effect at once.

use entities::{Role, user};
use uuid::Uuid;

#[derive(Clone, Debug)]
pub struct Caller {
    pub role: Role,
    pub user: Option<user::Model>,
}

impl Caller {
    /// A request without a token.
    pub fn public() -> Self {
        Caller { role: Role::Public, user: None }
    }

    /// An authenticated, active user.
    pub fn user(user: user::Model) -> Self {
        Caller { role: user.role, user: Some(user) }
    }

    pub fn user_id(&self) -> Option<Uuid> {
        self.user.as_ref().map(|u| u.id)
    }

    /// The caller's organisation; `None` for the public.
    pub fn organisation_id(&self) -> Option<Uuid> {
        self.user.as_ref().map(|u| u.organisation_id)
    }
}
