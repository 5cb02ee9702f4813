//! Telling a customer their parcel is with the courier (with the courier's
//! tracking link) and that it was delivered. These are transactional, not
//! marketing: no marketing consent is asked. The SMS or mail provider
//! receives the number or address, which the disclosure log records like
//! every other sharing. A batch of courier reports queues one job per
//! notice, with the order's id only; the job writes the message when it
//! runs, from the customer's record as it is then (an erased customer is
//! not told), so no copy of their contact waits in the queue.
use crate::disclosures::disclose;
use crate::error::{Result, ServiceError};
use crate::jobs::Job;
use crate::Services;
use chotomoni_domain::catalog::{Lang, Purpose, Recipient};
use chotomoni_domain::{
    CourierName, CustomerId, JobKind, JobState, OrderId, OrderNumber, OrderStatus,
};
use chotomoni_storage::{consignments, jobs, orders};
use std::time::Duration;

/// The subject line when the notice goes by email.
pub const NOTICE_SUBJECT: &str = "Chotomoni: your parcel / আপনার পার্সেল";

/// Which notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Notice {
    Handed,
    Delivered,
}

impl Notice {
    pub(crate) fn job(self) -> JobKind {
        match self {
            Notice::Handed => JobKind::ParcelHandedNotice,
            Notice::Delivered => JobKind::ParcelDeliveredNotice,
        }
    }

    fn of_job(kind: JobKind) -> Option<Notice> {
        [Notice::Handed, Notice::Delivered]
            .into_iter()
            .find(|n| n.job() == kind)
    }

    /// The notice an order's reaching `status` calls for.
    pub(crate) fn on_reaching(status: OrderStatus) -> Option<Notice> {
        match status {
            OrderStatus::HandedToCourier => Some(Notice::Handed),
            OrderStatus::Delivered => Some(Notice::Delivered),
            _ => None,
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
    /// A parcel notice's job (its subject is the order): writes the message
    /// in the language the customer ordered in, records that the SMS or
    /// mail provider receives their number or address, and sends it.
    /// Nothing is sent when the customer can no longer be reached (erased,
    /// or no transport for what they left).
    pub(crate) async fn send_parcel_notice(&self, kind: JobKind, order_id: i64) -> Result<()> {
        let notice = Notice::of_job(kind)
            .ok_or_else(|| ServiceError::Internal(format!("{kind} is not a parcel notice")))?;
        if notice == Notice::Delivered {
            self.after_hand_over_notice(order_id).await?;
        }
        let mut tx = self.db.begin().await?;
        let (Some(parcel), Some(order)) = (
            consignments::get(&mut tx, order_id).await?,
            orders::get(&mut tx, order_id).await?,
        ) else {
            return Ok(());
        };
        let Some(reach) = self.reach_on(&mut tx, CustomerId(order.customer_id)).await else {
            return Ok(());
        };
        let Some(field) = reach.field_used(self) else {
            return Ok(());
        };
        let tracking_url = parcel.consignment_id.as_deref().and_then(|id| {
            self.couriers()
                .get(parcel.courier)?
                .tracking_url(id, parcel.tracking_code.as_deref())
        });
        let lang = orders::lang_of(&mut tx, order_id).await?;
        let number = OrderNumber::from_id(OrderId(order_id));
        let text = notice_text(
            notice,
            lang,
            number,
            parcel.courier,
            tracking_url.as_deref(),
        );
        disclose(
            &mut tx,
            order.customer_id,
            Some(order_id),
            Recipient::ServiceProvider,
            &[field],
            Purpose::Fulfilment,
        )
        .await?;
        tx.commit().await?;
        self.deliver(&reach, text, NOTICE_SUBJECT).await
    }

    /// Waits (ten seconds at most) while another server sends the same
    /// order's hand-over notice, so that the customer does not hear
    /// "delivered" before "on its way": each server's worker takes the
    /// oldest due job, so when both notices are due, this one runs first
    /// only if another worker is running the other.
    async fn after_hand_over_notice(&self, order_id: i64) -> Result<()> {
        let key = Job::about(JobKind::ParcelHandedNotice, order_id).key();
        for _ in 0..100 {
            let mut conn = self.db.conn().await?;
            let running = jobs::active_by_key(&mut conn, &key)
                .await?
                .is_some_and(|job| job.state == JobState::Running);
            if !running {
                return Ok(());
            }
            drop(conn);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
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
