//! Demo and benchmark data.
use crate::error::Result;
use crate::orders::{AddressInput, CustomerInput, ItemInput, OrderInput};
use crate::{Actor, Services};
use chotomoni_domain::{OrderNumber, OrderStatus, PaymentMethod};
use chotomoni_storage::products;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub const PRODUCTS: &[(&str, &str, &str, i64)] = &[
    (
        "SAR-JAM-01",
        "Jamdani saree, Dhakai",
        "ঢাকাই জামদানি শাড়ি",
        850_000,
    ),
    (
        "SAR-TAN-02",
        "Tangail cotton saree",
        "টাঙ্গাইল সুতি শাড়ি",
        220_000,
    ),
    ("PAN-LAD-03", "Panjabi, handloom", "তাঁতের পাঞ্জাবি", 180_000),
    ("NAK-KAN-04", "Nakshi kantha throw", "নকশি কাঁথা", 320_000),
    (
        "TEA-SYL-05",
        "Sylhet tea, 500 g",
        "সিলেটের চা, ৫০০ গ্রাম",
        45_000,
    ),
    (
        "MIS-BOG-06",
        "Bogura mishti doi, 1 kg",
        "বগুড়ার মিষ্টি দই, ১ কেজি",
        38_000,
    ),
    (
        "HON-SUN-07",
        "Sundarbans honey, 1 kg",
        "সুন্দরবনের মধু, ১ কেজি",
        120_000,
    ),
    (
        "MUS-OIL-08",
        "Mustard oil, ghani, 1 L",
        "ঘানি ভাঙা সরিষার তেল, ১ লিটার",
        32_000,
    ),
    ("JUT-BAG-09", "Jute tote bag", "পাটের ব্যাগ", 25_000),
    ("CLAY-10", "Terracotta tea set", "পোড়ামাটির চায়ের সেট", 140_000),
];

const FIRST: &[&str] = &[
    "Rahima",
    "Karim",
    "Nusrat",
    "Tanvir",
    "Farhana",
    "Arif",
    "Sadia",
    "Mahmud",
    "Jannat",
    "Rakib",
    "Sumaiya",
    "Imran",
    "রহিমা",
    "করিম",
    "নুসরাত",
    "তানভীর",
];
const LAST: &[&str] = &[
    "Begum",
    "Hossain",
    "Akter",
    "Rahman",
    "Islam",
    "Chowdhury",
    "Sarkar",
    "Uddin",
    "বেগম",
    "হোসেন",
    "আক্তার",
    "রহমান",
];
const PLACES: &[(&str, &str)] = &[
    ("Mirpur 10", "Dhaka"),
    ("Dhanmondi", "Dhaka"),
    ("Agrabad", "Chattogram"),
    ("Zindabazar", "Sylhet"),
    ("Shaheb Bazar", "Rajshahi"),
    ("Sonadanga", "Khulna"),
    ("Kandirpar", "Cumilla"),
    ("Satmatha", "Bogura"),
    ("Nabiganj", "Narayanganj"),
    ("Tongi", "Gazipur"),
];
const INSTRUCTIONS: &[&str] = &[
    "Call before coming",
    "Leave with the guard",
    "ডেলিভারির আগে ফোন দিন",
    "Deliver after 5 pm",
    "",
];

pub async fn seed_products(s: &Services) -> Result<()> {
    let mut tx = s.db.begin().await?;
    for (sku, en, bn, price) in PRODUCTS {
        products::upsert(&mut tx, sku, en, bn, *price).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A believable shop: `customers` people ordering `orders` times, in every status.
/// Goes through the real services, so demo data is what real data looks like.
pub async fn seed_demo(s: &Services, customers: usize, orders: usize) -> Result<()> {
    seed_products(s).await?;
    let mut rng = StdRng::seed_from_u64(2026);
    let people: Vec<(String, String)> = (0..customers)
        .map(|i| {
            let name = format!(
                "{} {}",
                FIRST[rng.gen_range(0..FIRST.len())],
                LAST[rng.gen_range(0..LAST.len())]
            );
            let phone = format!(
                "01{}{:08}",
                rng.gen_range(3..=9),
                10_000_000 + i * 7919 % 89_999_999
            );
            (name, phone)
        })
        .collect();
    for n in 0..orders {
        let (name, phone) = &people[rng.gen_range(0..people.len())];
        let (area, district) = PLACES[rng.gen_range(0..PLACES.len())];
        let items = (0..rng.gen_range(1..=3))
            .map(|_| {
                let (sku, en, _, price) = PRODUCTS[rng.gen_range(0..PRODUCTS.len())];
                ItemInput {
                    name: en.into(),
                    sku: Some(sku.into()),
                    quantity: rng.gen_range(1..=3),
                    unit_price: price,
                }
            })
            .collect();
        let input = OrderInput {
            customer: CustomerInput {
                name: name.clone(),
                phone: phone.clone(),
                email: (n % 3 == 0).then(|| format!("customer{}@example.com", n % 97)),
            },
            address: AddressInput {
                line: format!(
                    "House {}, Road {}",
                    rng.gen_range(1..200),
                    rng.gen_range(1..30)
                ),
                area: area.into(),
                district: district.into(),
            },
            items,
            delivery_instructions: Some(INSTRUCTIONS[rng.gen_range(0..INSTRUCTIONS.len())].into())
                .filter(|s: &String| !s.is_empty()),
            payment_method: if n % 4 == 0 {
                PaymentMethod::Online
            } else {
                PaymentMethod::Cod
            },
            source: None,
            marketing_opt_in: n % 5 == 0,
            lang: None,
        };
        let view = s.create_order(&Actor::Visitor, &input).await?;
        let number = OrderNumber::parse(&view.number)?;
        walk_to(s, number, target_status(n, orders)).await?;
        // Spread over the last 60 days, oldest first, the newest still open.
        let age_ms = (orders - n) as i64 * (60 * 86_400_000 / orders as i64);
        chotomoni_storage::bulk::backdate_order(&s.db, number.id().0, s.now_ms() - age_ms).await?;
    }
    Ok(())
}

/// Old orders are finished (mostly delivered); the newest forty are still
/// moving through the shop, in every open status.
fn target_status(n: usize, orders: usize) -> OrderStatus {
    use OrderStatus::*;
    if n + 40 >= orders {
        [Placed, Confirmed, Packed, HandedToCourier][n % 4]
    } else {
        [
            Delivered, Delivered, Delivered, Delivered, Delivered, Returned, Cancelled,
        ][n % 7]
    }
}

async fn walk_to(s: &Services, number: OrderNumber, target: OrderStatus) -> Result<()> {
    use OrderStatus::*;
    let path: &[OrderStatus] = match target {
        Placed => &[],
        Confirmed => &[Confirmed],
        Packed => &[Confirmed, Packed],
        HandedToCourier => &[Confirmed, Packed, HandedToCourier],
        Delivered => &[Confirmed, Packed, HandedToCourier, Delivered],
        Returned => &[Confirmed, Packed, HandedToCourier, Returned],
        Cancelled => &[Cancelled],
    };
    for to in path {
        s.change_status(&Actor::System, number, *to).await?;
    }
    Ok(())
}

/// Bulk data for benchmarks: `orders` orders from `orders / 10` customers,
/// each customer with their own key and sealed fields, like real data.
pub async fn seed_bulk(s: &Services, orders: usize, mut progress: impl FnMut(usize)) -> Result<()> {
    use chotomoni_domain::{Address, CustomerName, Phone};
    use chotomoni_storage::bulk;
    seed_products(s).await?;
    let (first_customer, first_order) = bulk::next_ids(&s.db).await?;
    let n_customers = (orders / 10).max(1);
    let mut rng = StdRng::seed_from_u64(first_order as u64);
    let mut keys = Vec::with_capacity(n_customers);
    let mut rows = Vec::with_capacity(n_customers);
    for i in 0..n_customers {
        let id = first_customer + i as i64;
        let (key, wrapped) = s.vault.new_customer_key(id);
        let name = CustomerName::parse(&format!(
            "{} {}",
            FIRST[i % FIRST.len()],
            LAST[i % LAST.len()]
        ))?;
        // 019 numbers from a range real demo customers do not use.
        let phone = Phone::parse(&format!("019{:08}", (id as usize) % 100_000_000))?;
        let c = s.vault.seal_contact(&key, id, &name, &phone, None);
        rows.push(bulk::BulkCustomer {
            id,
            wrapped_key: wrapped,
            name_enc: c.name_enc,
            phone_enc: c.phone_enc,
            phone_index: c.phone_index,
        });
        keys.push((key, name));
    }
    bulk::insert_customers(&s.db, rows).await?;
    let now = s.now_ms();
    let statuses = OrderStatus::ALL;
    let mut done = 0;
    while done < orders {
        let n = (orders - done).min(100_000);
        let chunk: Vec<bulk::BulkOrder> = (0..n)
            .map(|j| {
                let id = first_order + (done + j) as i64;
                let c = rng.gen_range(0..n_customers);
                let (key, name) = &keys[c];
                let (area, district) = PLACES[(id as usize) % PLACES.len()];
                let address = Address::parse(
                    &format!("House {}, Road {}", id % 200, id % 30),
                    area,
                    district,
                )
                .expect("valid");
                let (sku, en, _, price) = PRODUCTS[(id as usize) % PRODUCTS.len()];
                bulk::BulkOrder {
                    id,
                    customer_id: first_customer + c as i64,
                    status: statuses[(id as usize) % statuses.len()].as_str(),
                    total: price,
                    address_enc: s.vault.seal_delivery(key, id, name, &address),
                    at: now - (orders - done - j) as i64 * 60_000,
                    item: (sku.into(), en.into(), 1, price),
                }
            })
            .collect();
        bulk::insert_orders(&s.db, &chunk).await?;
        done += n;
        progress(done);
    }
    bulk::fix_sequences(&s.db).await?;
    bulk::analyze(&s.db).await?;
    Ok(())
}
