//! Who is asking: read once per request (HTTP header or WebSocket `connection_init`) from the
//! user's row (or, for a citizen, the client's row), so a deactivated user, a changed role or an
//! erased client takes effect at once.

use entities::{Role, user};
use uuid::Uuid;

#[derive(Clone, Debug)]
pub struct Caller {
    pub role: Role,
    pub user: Option<user::Model>,
    /// For role CLIENT: the client the citizen is. `None` for everyone else.
    pub client: Option<Uuid>,
}

impl Caller {
    /// A request without a token.
    pub fn public() -> Self {
        Caller { role: Role::Public, user: None, client: None }
    }

    /// An authenticated, active user.
    pub fn user(user: user::Model) -> Self {
        Caller { role: user.role, user: Some(user), client: None }
    }

    /// A citizen signed in as themself (role CLIENT).
    pub fn client(client_id: Uuid) -> Self {
        Caller { role: Role::Client, user: None, client: Some(client_id) }
    }

    pub fn user_id(&self) -> Option<Uuid> {
        self.user.as_ref().map(|u| u.id)
    }

    /// The caller's organisation; `None` for the public and for a client.
    pub fn organisation_id(&self) -> Option<Uuid> {
        self.user.as_ref().map(|u| u.organisation_id)
    }

    /// Whoever signed in, user or client: what rates and open subscriptions are counted by.
    /// (Users and clients have distinct UUIDs.) `None` for the public.
    pub fn principal(&self) -> Option<Uuid> {
        self.user_id().or(self.client)
    }

    /// The client a CLIENT caller is; `None` for everyone else.
    pub fn client_id(&self) -> Option<Uuid> {
        self.client
    }
}
