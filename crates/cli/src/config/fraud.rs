//! The `[fraud]` table: when an order's signals from the shop's own history
//! raise a flag for staff. Each key may also be given as
//! `CHOTOMONI_FRAUD_<KEY>` (`CHOTOMONI_FRAUD_ORDERS_PER_PHONE=4`), which wins.
//! A flag never refuses an order.
use anyhow::{bail, Result};
use chotomoni_domain::FraudThresholds;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FraudFile {
    pub window_hours: Option<u32>,
    pub orders_per_phone: Option<u32>,
    pub orders_per_device: Option<u32>,
    pub orders_per_ip: Option<u32>,
    pub returned_share: Option<f64>,
    pub returned_min_orders: Option<u32>,
    pub cancellations: Option<u32>,
    pub velocity_minutes: Option<u32>,
    pub velocity_orders: Option<u32>,
    /// Poisha (৳5,000 is 500000).
    pub first_order_value: Option<i64>,
}

/// The thresholds from the file and the environment, checked.
pub fn fraud(
    file: Option<FraudFile>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<FraudThresholds> {
    let f = file.unwrap_or_default();
    let mut t = FraudThresholds::default();
    fn pick<T: std::str::FromStr>(
        env: &dyn Fn(&str) -> Option<String>,
        key: &str,
        from_file: Option<T>,
        into: &mut T,
    ) -> Result<()> {
        let name = format!("CHOTOMONI_FRAUD_{}", key.to_ascii_uppercase());
        match env(&name) {
            Some(v) => match v.trim().parse() {
                Ok(v) => *into = v,
                Err(_) => bail!("{name} (fraud.{key}) must be a number"),
            },
            None => {
                if let Some(v) = from_file {
                    *into = v;
                }
            }
        }
        Ok(())
    }
    pick(env, "window_hours", f.window_hours, &mut t.window_hours)?;
    pick(
        env,
        "orders_per_phone",
        f.orders_per_phone,
        &mut t.orders_per_phone,
    )?;
    pick(
        env,
        "orders_per_device",
        f.orders_per_device,
        &mut t.orders_per_device,
    )?;
    pick(env, "orders_per_ip", f.orders_per_ip, &mut t.orders_per_ip)?;
    pick(
        env,
        "returned_share",
        f.returned_share,
        &mut t.returned_share,
    )?;
    pick(
        env,
        "returned_min_orders",
        f.returned_min_orders,
        &mut t.returned_min_orders,
    )?;
    pick(env, "cancellations", f.cancellations, &mut t.cancellations)?;
    pick(
        env,
        "velocity_minutes",
        f.velocity_minutes,
        &mut t.velocity_minutes,
    )?;
    pick(
        env,
        "velocity_orders",
        f.velocity_orders,
        &mut t.velocity_orders,
    )?;
    pick(
        env,
        "first_order_value",
        f.first_order_value,
        &mut t.first_order_value,
    )?;
    if let Err((key, why)) = t.check() {
        bail!("fraud.{key} {why}");
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn defaults_file_and_environment() {
        assert_eq!(fraud(None, &none).unwrap(), FraudThresholds::default());
        let file = FraudFile {
            orders_per_phone: Some(5),
            returned_share: Some(0.75),
            ..Default::default()
        };
        let t = fraud(Some(file.clone()), &none).unwrap();
        assert_eq!((t.orders_per_phone, t.returned_share), (5, 0.75));
        let env = |k: &str| (k == "CHOTOMONI_FRAUD_ORDERS_PER_PHONE").then(|| "2".to_owned());
        assert_eq!(fraud(Some(file), &env).unwrap().orders_per_phone, 2);
    }

    #[test]
    fn errors_name_the_key() {
        let zero = FraudFile {
            orders_per_device: Some(0),
            ..Default::default()
        };
        let err = fraud(Some(zero), &none).unwrap_err().to_string();
        assert!(err.contains("fraud.orders_per_device"), "{err}");
        let share = FraudFile {
            returned_share: Some(2.0),
            ..Default::default()
        };
        let err = fraud(Some(share), &none).unwrap_err().to_string();
        assert!(err.contains("fraud.returned_share"), "{err}");
        let env = |k: &str| (k == "CHOTOMONI_FRAUD_WINDOW_HOURS").then(|| "a day".to_owned());
        let err = fraud(None, &env).unwrap_err().to_string();
        assert!(err.contains("CHOTOMONI_FRAUD_WINDOW_HOURS"), "{err}");
        assert!(err.contains("fraud.window_hours"), "{err}");
    }
}
