use crate::order::string_enum;
use serde::{Deserialize, Serialize};
use std::fmt;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StaffId(pub i64);

string_enum! {
    Role { Admin = "admin", Support = "support", Packer = "packer", Courier = "courier" }
}

string_enum! {
    /// Whose a session is: a staff member's, a signed-in customer's, or a
    /// visitor's (a cart, a language, nobody signed in).
    SessionKind { Staff = "staff", Customer = "customer", Visitor = "visitor" }
}

/// What a signed-in staff member may do. Checked on every staff route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// See orders: items, status, area and district (what packing needs).
    ViewOrders,
    /// See a customer's name, full phone, email and full address.
    ViewCustomerContact,
    /// Enter orders taken by phone or Facebook.
    EnterOrders,
    /// Change an order's status (also restricted per status, see `may_set_status`).
    ChangeStatus,
    /// Upload packing, delivery and return proof (the station).
    UploadProof,
    /// Watch proofs and their receipts, make and revoke share links (claims).
    ViewProofs,
    /// Log, see and carry out privacy requests (access, erasure, opt-out).
    HandlePrivacyRequests,
    /// Place and release legal holds on an order's proof media.
    PlaceLegalHolds,
    /// Work the claims desk: log claims for customers, marketplaces and
    /// couriers, see their evidence, decide them.
    HandleClaims,
    /// Book parcels with couriers (which sends the customer's name, phone
    /// and address to them), and see failed bookings, held and returned
    /// parcels and the cash couriers collected.
    BookParcels,
    /// See an order's fraud signals (orders per phone, device and address,
    /// refused and cancelled orders) and record a confirmation by phone.
    ViewFraudSignals,
    /// Manage staff accounts and read the audit log.
    Administer,
}

impl Role {
    pub fn may(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Support => matches!(
                permission,
                ViewOrders
                    | ViewCustomerContact
                    | EnterOrders
                    | ChangeStatus
                    | UploadProof
                    | ViewProofs
                    | HandlePrivacyRequests
                    | HandleClaims
                    | BookParcels
                    | ViewFraudSignals
            ),
            // A courier needs the phone and address to deliver; a packer does not.
            // Packers and couriers record proof but do not browse it: a
            // recording can show a slip with the customer's address.
            Role::Courier => matches!(
                permission,
                ViewOrders | ViewCustomerContact | ChangeStatus | UploadProof
            ),
            Role::Packer => matches!(permission, ViewOrders | ChangeStatus | UploadProof),
        }
    }

    /// Packers move orders to packed, couriers through delivery; support and
    /// admin may make any legal change.
    pub fn may_set_status(self, to: crate::OrderStatus) -> bool {
        use crate::OrderStatus::*;
        match self {
            Role::Admin | Role::Support => true,
            Role::Packer => matches!(to, Packed),
            Role::Courier => matches!(to, HandedToCourier | Delivered | Returned),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packers_do_not_see_contact_details() {
        assert!(!Role::Packer.may(Permission::ViewCustomerContact));
        assert!(Role::Packer.may(Permission::ViewOrders));
        assert!(Role::Courier.may(Permission::ViewCustomerContact));
        assert!(!Role::Courier.may(Permission::EnterOrders));
        assert!(!Role::Support.may(Permission::Administer));
        assert!(Role::Admin.may(Permission::Administer));
    }

    #[test]
    fn fraud_signals_reach_only_the_desk() {
        assert!(Role::Admin.may(Permission::ViewFraudSignals));
        assert!(Role::Support.may(Permission::ViewFraudSignals));
        assert!(!Role::Packer.may(Permission::ViewFraudSignals));
        assert!(!Role::Courier.may(Permission::ViewFraudSignals));
    }

    #[test]
    fn status_changes_by_role() {
        use crate::OrderStatus::*;
        assert!(Role::Packer.may_set_status(Packed));
        assert!(!Role::Packer.may_set_status(Cancelled));
        assert!(Role::Courier.may_set_status(Delivered));
        assert!(!Role::Courier.may_set_status(Confirmed));
    }
}
