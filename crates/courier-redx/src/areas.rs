//! RedX's delivery areas: a parcel is booked to an area id, found by the
//! area and district names staff keep on the order.
use crate::{CourierError, Parcel, Redx};
use serde::Deserialize;

/// One delivery area as `GET /areas` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Area {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub post_code: Option<u64>,
    #[serde(default)]
    pub division_name: Option<String>,
    #[serde(default)]
    pub zone_id: Option<u64>,
}

#[derive(Deserialize)]
struct AreasBody {
    areas: Vec<Area>,
}

/// Names compare as staff and RedX write them: case and spacing aside.
fn same_name(a: &str, b: &str) -> bool {
    let words = |s: &str| {
        s.split_whitespace()
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
    };
    words(a) == words(b)
}

impl Redx {
    /// The delivery areas RedX lists for a district (`Dhaka`, `Chattogram`…).
    /// Kept for the client's life: RedX's areas change rarely, and a day's
    /// bulk booking would otherwise ask once per parcel.
    pub async fn areas(&self, district: &str) -> Result<Vec<Area>, CourierError> {
        let key = district.trim().to_lowercase();
        if let Some(areas) = self.areas_known.lock().expect("not poisoned").get(&key) {
            return Ok(areas.clone());
        }
        let body: AreasBody = self
            .get("/areas", &[("district_name", district.trim())])
            .await?;
        self.areas_known
            .lock()
            .expect("not poisoned")
            .insert(key, body.areas.clone());
        Ok(body.areas)
    }

    /// The area of `district` named `name`, if RedX lists one.
    pub async fn area_by_name(
        &self,
        district: &str,
        name: &str,
    ) -> Result<Option<Area>, CourierError> {
        let areas = self.areas(district).await?;
        Ok(areas.into_iter().find(|a| same_name(&a.name, name)))
    }

    /// The RedX area a parcel goes to, or a local refusal naming what is
    /// missing (not the address itself: errors get logged).
    pub async fn resolve_area(&self, parcel: &Parcel) -> Result<Area, CourierError> {
        let (Some(area), Some(district)) = (parcel.area.as_deref(), parcel.district.as_deref())
        else {
            return Err(CourierError::NotSupported(
                "a parcel without its delivery area and district",
            ));
        };
        self.area_by_name(district, area)
            .await?
            .ok_or(CourierError::NotSupported(
                "delivery to an area RedX does not list for the district",
            ))
    }
}
