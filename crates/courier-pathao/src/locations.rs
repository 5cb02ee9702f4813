//! Pathao's cities, zones and areas.
use crate::{CourierError, Pathao};
use serde::Deserialize;

/// A city, zone or area as Pathao lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub id: u64,
    pub name: String,
}

#[derive(Deserialize)]
struct Listed<T> {
    data: Vec<T>,
}

#[derive(Deserialize)]
struct CityRow {
    city_id: u64,
    city_name: String,
}

#[derive(Deserialize)]
struct ZoneRow {
    zone_id: u64,
    zone_name: String,
}

#[derive(Deserialize)]
struct AreaRow {
    area_id: u64,
    area_name: String,
}

impl Pathao {
    async fn list<R: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        row: fn(R) -> Location,
    ) -> Result<Vec<Location>, CourierError> {
        let listed: Listed<R> = self.data(reqwest::Method::GET, path, None).await?;
        Ok(listed.data.into_iter().map(row).collect())
    }

    /// Pathao's cities (`GET city-list`).
    pub async fn cities(&self) -> Result<Vec<Location>, CourierError> {
        self.list("city-list", |c: CityRow| Location {
            id: c.city_id,
            name: c.city_name,
        })
        .await
    }

    /// The zones of a city (`GET cities/{id}/zone-list`).
    pub async fn zones(&self, city_id: u64) -> Result<Vec<Location>, CourierError> {
        self.list(&format!("cities/{city_id}/zone-list"), |z: ZoneRow| {
            Location {
                id: z.zone_id,
                name: z.zone_name,
            }
        })
        .await
    }

    /// The areas of a zone (`GET zones/{id}/area-list`).
    pub async fn areas(&self, zone_id: u64) -> Result<Vec<Location>, CourierError> {
        self.list(&format!("zones/{zone_id}/area-list"), |a: AreaRow| {
            Location {
                id: a.area_id,
                name: a.area_name,
            }
        })
        .await
    }
}
