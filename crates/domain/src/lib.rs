//! Domain types and rules of Chotomoni. Nothing here performs I/O: values are
//! parsed once at the edge into these types, and the rules (status lifecycle,
//! the personal-data catalog) are plain functions over them.

pub mod audit;
pub mod catalog;
pub mod claim;
pub mod claim_pack;
pub mod consent;
pub mod consignment;
pub mod customer;
pub mod error;
pub mod fraud;
pub mod job;
pub mod order;
pub mod payment;
pub mod phone;
pub mod policy;
pub mod privacy_request;
pub mod proof;
pub mod refund;
pub mod schema;
pub mod staff;

pub use audit::AuditAction;
pub use claim::{ClaimId, ClaimKind, ClaimRules, ClaimStatus, Decision, RaisedBy};
pub use claim_pack::{ExcerptStart, PackStatus};
pub use consent::ConsentPurpose;
pub use consignment::{ConsignmentState, CourierName, EventOutcome, EventSource, ParcelStatus};
pub use customer::{Address, CustomerId, CustomerName, Email};
pub use error::FieldError;
pub use fraud::{FlagKind, FraudFlag, FraudThresholds, PhoneCheckOutcome};
pub use job::{JobKind, JobState};
pub use order::{
    ItemLine, OrderId, OrderNumber, OrderSource, OrderStatus, PaymentMethod, PaymentStatus, Poisha,
};
pub use payment::{GatewayName, PaymentState};
pub use phone::Phone;
pub use privacy_request::{
    ExportStage, HoldReason, RequestChannel, RequestKind, RequestStatus, StoredExportStatus,
    VerifiedBy,
};
pub use proof::{ProofId, ProofKind, SharePurpose};
pub use refund::{RefundMethod, RefundState, RefundWallet, WalletTrxId};
pub use staff::{Role, SessionKind, StaffId};
