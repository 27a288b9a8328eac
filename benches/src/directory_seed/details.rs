//! The details of a generated profile: services and their prices, the place, the address, the
//! languages spoken and the opening hours, each in the usual pattern of its trade.

use contacto_core::api::{OpeningHours, PriceUnit, ServiceRequest, TimeRange};
use rand::Rng;
use rand::distr::Distribution;
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand_distr::Normal;

use super::data::{ADDRESSES, CategorySeed, Family, KABYLE_WILAYAS, WilayaSeed};

/// Kilometres per degree of latitude.
const KM_PER_DEGREE: f64 = 111.2;

/// One of the items; empty for none.
pub(super) fn pick<'a>(rng: &mut StdRng, items: &[&'a str]) -> &'a str {
    items.choose(rng).copied().unwrap_or_default()
}

/// A local mobile number as people write it: `0551 23 45 67`.
pub(super) fn mobile_local(rng: &mut StdRng) -> String {
    let operator = *[5, 6, 7].choose(rng).unwrap_or(&5);
    let n: u32 = rng.random_range(0..100_000_000);
    format!(
        "0{operator}{:02} {:02} {:02} {:02}",
        n / 1_000_000,
        n / 10_000 % 100,
        n / 100 % 100,
        n % 100
    )
}

/// One to four of the trade's services, priced in its usual unit and range.
pub(super) fn services(rng: &mut StdRng, category: &CategorySeed) -> Vec<ServiceRequest> {
    let mut offered: Vec<&str> = category.services.to_vec();
    offered.shuffle(rng);
    let count = rng.random_range(1..=offered.len().min(4));
    let (unit, low, high) = match category.family {
        Family::Shop => (PriceUnit::Item, 100, 5_000),
        Family::Legal => (PriceUnit::Visit, 3_000, 20_000),
        Family::Doctor => (PriceUnit::Visit, 1_500, 6_000),
        Family::Health => (PriceUnit::Visit, 300, 4_000),
        Family::Office => (PriceUnit::Project, 20_000, 300_000),
        Family::Teaching => (PriceUnit::Hour, 500, 3_000),
        Family::Trade => (PriceUnit::Visit, 1_500, 8_000),
        Family::Auto => (PriceUnit::Visit, 500, 20_000),
        Family::Events => (PriceUnit::Project, 10_000, 150_000),
        Family::Beauty => (PriceUnit::Visit, 300, 8_000),
        Family::Property => (PriceUnit::Project, 20_000, 500_000),
        Family::Animals => (PriceUnit::Visit, 1_000, 5_000),
    };
    offered[..count]
        .iter()
        .map(|name| {
            let priced = rng.random_bool(0.8);
            // Dinars rounded to 100, stored in centimes.
            let min_dzd: i64 = rng.random_range(low / 100..=high / 100) * 100;
            let max_dzd = min_dzd * rng.random_range(1..=3);
            ServiceRequest {
                name: (*name).to_owned(),
                description: rng
                    .random_bool(0.4)
                    .then(|| format!("{name} : travail soigné, déplacement possible.")),
                price_min_minor: priced.then_some(min_dzd * 100),
                price_max_minor: (priced && rng.random_bool(0.6)).then_some(max_dzd * 100),
                price_unit: unit,
                duration_minutes: rng.random_bool(0.5).then(|| rng.random_range(2..=16) * 15),
            }
        })
        .collect()
}

/// A point near commune `k` of the wilaya: communes sit on a spiral around the capital (golden
/// angle, a few km apart), professionals within a couple of km of their commune's centre.
pub(super) fn place(rng: &mut StdRng, wilaya: &WilayaSeed, k: usize) -> (f64, f64) {
    let (lat0, lng0) = wilaya.capital;
    let (mut north_km, mut east_km) = (0.0, 0.0);
    if k > 0 {
        let angle = k as f64 * 2.399_963;
        let distance = 4.0 + 6.0 * (k as f64).sqrt();
        north_km = distance * angle.sin();
        east_km = distance * angle.cos();
    }
    let jitter = Normal::new(0.0, 1.2).unwrap_or_else(|_| unreachable!("a valid deviation"));
    north_km += jitter.sample(rng);
    east_km += jitter.sample(rng);
    let lat = lat0 + north_km / KM_PER_DEGREE;
    let lng = lng0 + east_km / (KM_PER_DEGREE * lat0.to_radians().cos());
    // Six decimals: about 10 cm, what a phone reports.
    ((lat * 1e6).round() / 1e6, (lng * 1e6).round() / 1e6)
}

/// A street address in one of the usual shapes.
pub(super) fn address(rng: &mut StdRng) -> String {
    pick(rng, ADDRESSES)
        .replace("{n}", &rng.random_range(1..=500).to_string())
        .replace("{b}", &rng.random_range(1..=60).to_string())
}

/// Arabic and French mostly, some English, Kabyle where it is spoken.
pub(super) fn languages(rng: &mut StdRng, wilaya: &WilayaSeed) -> Vec<String> {
    let mut languages = Vec::new();
    if rng.random_bool(0.95) {
        languages.push("ar");
    }
    if rng.random_bool(0.75) {
        languages.push("fr");
    }
    if rng.random_bool(0.15) {
        languages.push("en");
    }
    let kabyle = if KABYLE_WILAYAS.contains(&wilaya.code) {
        0.6
    } else {
        0.02
    };
    if rng.random_bool(kabyle) {
        languages.push("kab");
    }
    languages.into_iter().map(str::to_owned).collect()
}

/// Weekly hours in a trade's usual pattern; a tenth list none.
pub(super) fn hours(rng: &mut StdRng, category: &CategorySeed) -> OpeningHours {
    const SAT_TO_THU: [usize; 6] = [5, 6, 0, 1, 2, 3];
    const SUN_TO_THU: [usize; 5] = [6, 0, 1, 2, 3];
    const EVERY_DAY: [usize; 7] = [0, 1, 2, 3, 4, 5, 6];
    if rng.random_bool(0.1) {
        return OpeningHours::default();
    }
    let always = match category.slug {
        "pharmacie" => 0.15,
        "depannage-remorquage" => 0.5,
        "plombier" | "electricien" | "serrurier" => 0.08,
        _ => 0.0,
    };
    let (days, ranges): (&[usize], &[(&str, &str)]) = if rng.random_bool(always) {
        (&EVERY_DAY, &[("00:00", "24:00")])
    } else {
        match category.family {
            Family::Shop if rng.random_bool(0.3) => (&EVERY_DAY, &[("07:00", "22:00")]),
            Family::Shop | Family::Health => (&SAT_TO_THU, &[("08:00", "20:00")]),
            Family::Legal | Family::Office | Family::Property => {
                (&SUN_TO_THU, &[("08:30", "12:00"), ("13:00", "16:30")])
            }
            Family::Doctor if rng.random_bool(0.5) => {
                (&SAT_TO_THU, &[("08:00", "12:00"), ("14:00", "18:00")])
            }
            Family::Doctor | Family::Animals => (&SAT_TO_THU, &[("09:00", "17:00")]),
            Family::Teaching => (&SAT_TO_THU, &[("09:00", "12:00"), ("17:00", "21:00")]),
            Family::Events => (&[3, 4, 5], &[("14:00", "02:00")]),
            Family::Trade | Family::Auto => (&SAT_TO_THU, &[("08:00", "18:00")]),
            Family::Beauty => (&SAT_TO_THU, &[("09:00", "19:00")]),
        }
    };
    let ranges: Vec<TimeRange> = ranges
        .iter()
        .map(|(open, close)| TimeRange {
            open: (*open).to_owned(),
            close: (*close).to_owned(),
        })
        .collect();
    let mut hours = OpeningHours::default();
    for day in days {
        let slot = match day {
            0 => &mut hours.mon,
            1 => &mut hours.tue,
            2 => &mut hours.wed,
            3 => &mut hours.thu,
            4 => &mut hours.fri,
            5 => &mut hours.sat,
            _ => &mut hours.sun,
        };
        slot.clone_from(&ranges);
    }
    hours
}
