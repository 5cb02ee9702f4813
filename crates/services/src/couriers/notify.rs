//! Telling a customer their parcel is with the courier (with the courier's
//! tracking link) and that it was delivered. These are transactional, not
//! marketing: no marketing consent is asked. The SMS or mail provider
//! receives the number or address, which the disclosure log records like
//! every other sharing.
use crate::disclosures::disclose;
use crate::error::Result;
use crate::Services;
use chotomoni_domain::catalog::{Lang, Purpose, Recipient};
use chotomoni_domain::{CourierName, CustomerId, JobKind, OrderId, OrderNumber};
use chotomoni_storage::consignments::ConsignmentRow;
use chotomoni_storage::{orders, Conn};

/// The subject line when the notice goes by email.
pub const NOTICE_SUBJECT: &str = "Chotomoni: your parcel / আপনার পার্সেল";

/// Which notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Notice {
    Handed,
    Delivered,
}

impl Notice {
    fn job(self) -> JobKind {
        match self {
            Notice::Handed => JobKind::ParcelHandedNotice,
            Notice::Delivered => JobKind::ParcelDeliveredNotice,
        }
    }
}

/// The message, in the customer's language.
pub(crate) fn notice_text(
    notice: Notice,
    lang: Lang,
    order: OrderNumber,
    courier: CourierName,
    tracking_url: Option<&str>,
) -> String {
    let courier = courier.label();
    match (notice, lang) {
        (Notice::Handed, Lang::Bn) => {
            let track = tracking_url
                .map(|u| format!(" ট্র্যাক করুন: {u}"))
                .unwrap_or_default();
            format!("ছোটমনি: আপনার অর্ডার {order} {courier}-এর কাছে হস্তান্তর করা হয়েছে।{track}")
        }
        (Notice::Handed, Lang::En) => {
            let track = tracking_url
                .map(|u| format!(" Track it: {u}"))
                .unwrap_or_default();
            format!("Chotomoni: your order {order} is on its way with {courier}.{track}")
        }
        (Notice::Delivered, Lang::Bn) => {
            format!("ছোটমনি: আপনার অর্ডার {order} ডেলিভারি হয়েছে। ধন্যবাদ!")
        }
        (Notice::Delivered, Lang::En) => {
            format!("Chotomoni: your order {order} was delivered. Thank you!")
        }
    }
}

impl Services {
    /// Queues `notice` about `parcel` to its order's customer on `tx`, in
    /// the language they ordered in, and records that the SMS or mail
    /// provider receives their number or address.
    pub(crate) async fn queue_parcel_notice(
        &self,
        tx: &mut Conn,
        notice: Notice,
        parcel: &ConsignmentRow,
        customer_id: i64,
    ) -> Result<()> {
        if !self.can_tell() {
            return Ok(());
        }
        let Some(reach) = self.reach_on(tx, CustomerId(customer_id)).await else {
            return Ok(());
        };
        let Some(field) = reach.field_used(self) else {
            return Ok(());
        };
        let order_id = parcel.order_id;
        let tracking_url = parcel.consignment_id.as_deref().and_then(|id| {
            self.couriers()
                .get(parcel.courier)?
                .tracking_url(id, parcel.tracking_code.as_deref())
        });
        let lang = orders::lang_of(tx, order_id).await?;
        let order = OrderNumber::from_id(OrderId(order_id));
        let text = notice_text(notice, lang, order, parcel.courier, tracking_url.as_deref());
        disclose(
            tx,
            customer_id,
            Some(order_id),
            Recipient::ServiceProvider,
            &[field],
            Purpose::Fulfilment,
        )
        .await?;
        self.queue_message(tx, notice.job(), order_id, reach, text)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_speak_the_customers_language_and_carry_the_link() {
        let order = OrderNumber::from_id(OrderId(7));
        let en = notice_text(
            Notice::Handed,
            Lang::En,
            order,
            CourierName::Steadfast,
            Some("https://steadfast.com.bd/t/ABC"),
        );
        assert!(
            en.contains("CM-000007") && en.contains("https://steadfast.com.bd/t/ABC"),
            "{en}"
        );
        let bn = notice_text(Notice::Delivered, Lang::Bn, order, CourierName::Redx, None);
        assert!(bn.contains("ডেলিভারি হয়েছে"), "{bn}");
    }
}
