use chotomoni_domain::staff::Permission;
use chotomoni_domain::{CustomerId, Role, StaffId};

/// Who is asking. Every service call takes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Staff {
        id: StaffId,
        role: Role,
    },
    Customer(CustomerId),
    /// A visitor without an account (guest checkout).
    Visitor,
    /// The system itself: seeding, sweeping, the CLI.
    System,
}

impl Actor {
    /// How the audit log names the actor: a reference, never a name.
    pub fn audit_ref(&self) -> String {
        match self {
            Actor::Staff { id, .. } => format!("staff:{}", id.0),
            Actor::Customer(id) => format!("customer:{}", id.0),
            Actor::Visitor => "visitor".into(),
            Actor::System => "system".into(),
        }
    }

    pub fn staff_may(&self, p: Permission) -> bool {
        match self {
            Actor::Staff { role, .. } => role.may(p),
            Actor::System => true,
            _ => false,
        }
    }

    /// `staff_may`, as the error a service returns: 403 when it may not.
    pub fn require(&self, p: Permission) -> Result<(), crate::ServiceError> {
        if self.staff_may(p) {
            Ok(())
        } else {
            Err(crate::ServiceError::Forbidden)
        }
    }

    pub fn staff_id(&self) -> Option<i64> {
        match self {
            Actor::Staff { id, .. } => Some(id.0),
            _ => None,
        }
    }
}
