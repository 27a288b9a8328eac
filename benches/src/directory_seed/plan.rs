//! What the generator makes of professional number `i`: an account, a profile, its services, its
//! reviews and whether it is verified. Pure and deterministic: the same seed and `i` give the same
//! plan whatever the order plans are drawn in, so accounts can be inserted first and profiles
//! created later, concurrently.

use std::collections::HashMap;

use contacto_core::api::{ProfessionalRequest, ReviewRequest, ServiceRequest, UserId};
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::Normal;
use uuid::Uuid;

use super::data::{
    CATEGORIES, CategorySeed, Family, MEN_ARABIC, MEN_LATIN, REVIEWS_BAD, REVIEWS_GOOD,
    REVIEWS_MIXED, SHOP_NAMES_ARABIC, SHOP_NAMES_LATIN, SURNAMES_ARABIC, SURNAMES_LATIN, WILAYAS,
    WOMEN_ARABIC, WOMEN_LATIN, WilayaSeed,
};
use super::details::{address, hours, languages, mobile_local, pick, place, services};

/// The password hash of every generated account: the schema wants an argon2id string, and hashing
/// 100,000 real passwords would take hours. Nobody can log in with it.
pub const DUMMY_PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2VlZA$not-a-login";

/// A user row to insert with SQL.
#[derive(Debug, Clone)]
pub struct Account {
    /// The user's id.
    pub id: UserId,
    /// Lower-case, unique.
    pub email: String,
    /// The registered name.
    pub full_name: String,
    /// E.164, unique.
    pub phone: Option<String>,
}

/// Everything about one generated professional.
#[derive(Debug, Clone)]
pub struct ProfessionalPlan {
    /// Its account (role `professional`).
    pub account: Account,
    /// Its profile.
    pub profile: ProfessionalRequest,
    /// Its services, added one by one after the profile.
    pub services: Vec<ServiceRequest>,
    /// Whether an administrator verifies it.
    pub verified: bool,
    /// Reviews: the reviewer's number and what they write.
    pub reviews: Vec<(usize, ReviewRequest)>,
}

/// French and Arabic names of the wilayas and categories, as the database has them.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// By wilaya code: (French, Arabic).
    pub wilayas: HashMap<String, (String, String)>,
    /// By category slug: (French, Arabic).
    pub categories: HashMap<String, (String, String)>,
}

/// Draws professionals and reviewers.
#[derive(Debug, Clone)]
pub struct Generator {
    seed: u64,
    names: Names,
    wilayas: WeightedIndex<u32>,
    categories: WeightedIndex<u32>,
    reviewers: usize,
}

/// A private random stream per (seed, stream, item): order-independent determinism.
fn rng_for(seed: u64, stream: u64, item: usize) -> StdRng {
    // SplitMix64-style mixing so neighbouring items get unrelated seeds.
    let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (item as u64).rotate_left(32);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    StdRng::seed_from_u64(z ^ (z >> 31))
}

const STREAM_PROFESSIONAL: u64 = 1;
const STREAM_REVIEWER: u64 = 2;

fn uuid(rng: &mut StdRng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid()
}

/// `+213` and nine digits starting 5, 6 or 7: unique per `n` and `prefix`.
fn mobile_e164(prefix: u8, n: usize) -> String {
    format!("+213{prefix}{:08}", n % 100_000_000)
}

/// A person's name in one script.
struct Person {
    first: &'static str,
    last: &'static str,
    woman: bool,
    arabic: bool,
}

impl Person {
    fn draw(rng: &mut StdRng) -> Self {
        let woman = rng.random_bool(0.35);
        let arabic = rng.random_bool(0.35);
        let (first, last) = match (arabic, woman) {
            (false, false) => (MEN_LATIN, SURNAMES_LATIN),
            (false, true) => (WOMEN_LATIN, SURNAMES_LATIN),
            (true, false) => (MEN_ARABIC, SURNAMES_ARABIC),
            (true, true) => (WOMEN_ARABIC, SURNAMES_ARABIC),
        };
        Self {
            first: pick(rng, first),
            last: pick(rng, last),
            woman,
            arabic,
        }
    }

    fn full(&self) -> String {
        format!("{} {}", self.first, self.last)
    }

    /// "Dr. Amina Haddad", "الدكتورة أمينة حداد", "Maître Karim Benali", "الأستاذ كريم بن علي".
    fn titled(&self, family: Family) -> String {
        let title = match (family, self.arabic, self.woman) {
            (Family::Doctor, false, _) => "Dr.",
            (Family::Doctor, true, false) => "الدكتور",
            (Family::Doctor, true, true) => "الدكتورة",
            (Family::Legal, false, _) => "Maître",
            (Family::Legal, true, false) => "الأستاذ",
            (Family::Legal, true, true) => "الأستاذة",
            _ => return self.full(),
        };
        format!("{title} {}", self.full())
    }
}

impl Generator {
    /// A generator for `seed`, drawing reviewers among `reviewers` accounts.
    ///
    /// # Errors
    ///
    /// When a seeded category or wilaya is missing from `names` (the reference data changed).
    pub fn new(seed: u64, names: Names, reviewers: usize) -> Result<Self, String> {
        for category in CATEGORIES {
            if !names.categories.contains_key(category.slug) {
                return Err(format!(
                    "category {:?} is not in the database",
                    category.slug
                ));
            }
        }
        for wilaya in &WILAYAS {
            if !names.wilayas.contains_key(wilaya.code) {
                return Err(format!("wilaya {:?} is not in the database", wilaya.code));
            }
        }
        let wilayas =
            WeightedIndex::new(WILAYAS.iter().map(|w| w.weight)).map_err(|e| e.to_string())?;
        let categories =
            WeightedIndex::new(CATEGORIES.iter().map(|c| c.weight)).map_err(|e| e.to_string())?;
        Ok(Self {
            seed,
            names,
            wilayas,
            categories,
            reviewers: reviewers.max(1),
        })
    }

    /// How many reviewer accounts plans refer to.
    pub fn reviewers(&self) -> usize {
        self.reviewers
    }

    /// Reviewer number `j`, a customer.
    pub fn reviewer(&self, j: usize) -> Account {
        let mut rng = rng_for(self.seed, STREAM_REVIEWER, j);
        let person = Person::draw(&mut rng);
        Account {
            id: UserId(uuid(&mut rng)),
            email: format!("client{j}@seed.contacto.example"),
            full_name: person.full(),
            phone: rng.random_bool(0.7).then(|| mobile_e164(6, j)),
        }
    }

    /// Professional number `i`.
    pub fn professional(&self, i: usize) -> ProfessionalPlan {
        let mut rng = rng_for(self.seed, STREAM_PROFESSIONAL, i);
        let person = Person::draw(&mut rng);
        let account = Account {
            id: UserId(uuid(&mut rng)),
            email: format!("pro{i}@seed.contacto.example"),
            full_name: person.full(),
            phone: Some(mobile_e164(5, i)),
        };
        let wilaya = &WILAYAS[self.wilayas.sample(&mut rng)];
        let category = &CATEGORIES[self.categories.sample(&mut rng)];
        let commune_index = if wilaya.communes.len() == 1 || rng.random_bool(0.4) {
            0
        } else {
            rng.random_range(1..wilaya.communes.len())
        };
        let commune = wilaya.communes[commune_index];
        let (display_name, business_name) = names(&mut rng, &person, category);
        let years = rng.random_bool(0.7).then(|| rng.random_range(1..=35_i16));
        let services = services(&mut rng, category);
        let service_names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
        let (bio_fr, bio_ar) =
            self.bios(&mut rng, category, wilaya, commune, years, &service_names);
        let coordinates = rng
            .random_bool(0.92)
            .then(|| place(&mut rng, wilaya, commune_index));
        let profile = ProfessionalRequest {
            display_name,
            business_name,
            bio_ar,
            bio_fr,
            category: category.slug.to_owned(),
            wilaya: wilaya.code.to_owned(),
            commune: commune.to_owned(),
            address: rng.random_bool(0.8).then(|| address(&mut rng)),
            latitude: coordinates.map(|(lat, _)| lat),
            longitude: coordinates.map(|(_, lng)| lng),
            phone: rng.random_bool(0.85).then(|| mobile_local(&mut rng)),
            email: rng
                .random_bool(0.3)
                .then(|| format!("contact.{i}@example.dz")),
            website: rng
                .random_bool(0.1)
                .then(|| format!("https://pro-{i}.example.dz")),
            languages: languages(&mut rng, wilaya),
            opening_hours: hours(&mut rng, category),
            years_experience: years,
        };
        let verified_share = match category.family {
            Family::Doctor | Family::Legal | Family::Health => 0.35,
            _ => 0.18,
        };
        let verified = rng.random_bool(verified_share);
        let reviews = self.reviews(&mut rng);
        ProfessionalPlan {
            account,
            profile,
            services,
            verified,
            reviews,
        }
    }

    fn bios(
        &self,
        rng: &mut StdRng,
        category: &CategorySeed,
        wilaya: &WilayaSeed,
        commune: &str,
        years: Option<i16>,
        services: &[&str],
    ) -> (Option<String>, Option<String>) {
        let unknown = (String::new(), String::new());
        let (trade_fr, trade_ar) = self.names.categories.get(category.slug).unwrap_or(&unknown);
        let (wilaya_fr, wilaya_ar) = self.names.wilayas.get(wilaya.code).unwrap_or(&unknown);
        let listed = services.join(", ");
        let experience = years.map_or(String::new(), |y| format!(" {y} ans d'expérience."));
        let french = match rng.random_range(0..3) {
            0 => format!(
                "{trade_fr} à {commune} ({wilaya_fr}).{experience} Nous proposons : {listed}. Devis gratuit."
            ),
            1 => format!(
                "Professionnel en {} installé à {commune}, wilaya de {wilaya_fr}. {listed}. Sérieux et disponible.",
                trade_fr.to_lowercase()
            ),
            _ => format!(
                "Au service des habitants de {commune} et environs : {}. {listed}.{experience}",
                trade_fr.to_lowercase()
            ),
        };
        let arabic = match rng.random_range(0..3) {
            0 => format!(
                "{trade_ar} في {commune}، ولاية {wilaya_ar}. خبرة {} سنة في الميدان. خدمة سريعة وأسعار معقولة.",
                years.unwrap_or(5)
            ),
            1 => format!(
                "نقدم خدمات {trade_ar} في {wilaya_ar} وضواحيها. اتصلوا بنا للمزيد من المعلومات."
            ),
            _ => format!("{trade_ar} - {wilaya_ar}. جودة، ثقة وأمانة."),
        };
        match rng.random_range(0..10) {
            0..5 => (Some(french), Some(arabic)),
            5..8 => (Some(french), None),
            _ => (None, Some(arabic)),
        }
    }

    fn reviews(&self, rng: &mut StdRng) -> Vec<(usize, ReviewRequest)> {
        if !rng.random_bool(0.55) {
            return Vec::new();
        }
        // Most professionals are good; a few are not. Ratings scatter around their level.
        let level: f64 = 5.0 - 3.0 * rng.random::<f64>().powi(2);
        let scatter = Normal::new(0.0, 0.8).unwrap_or_else(|_| unreachable!("a valid deviation"));
        let mut count = 1;
        while count < 15 && rng.random_bool(0.65) {
            count += 1;
        }
        let mut authors: Vec<usize> = Vec::with_capacity(count);
        while authors.len() < count.min(self.reviewers) {
            let author = rng.random_range(0..self.reviewers);
            if !authors.contains(&author) {
                authors.push(author);
            }
        }
        authors
            .into_iter()
            .map(|author| {
                let rating = (level + scatter.sample(rng)).round().clamp(1.0, 5.0) as i16;
                let detail = rng.random_bool(0.5);
                let sub = |rng: &mut StdRng| {
                    detail.then(|| (rating + rng.random_range(-1..=1)).clamp(1, 5))
                };
                let texts = match rating {
                    4..=5 => REVIEWS_GOOD,
                    3 => REVIEWS_MIXED,
                    _ => REVIEWS_BAD,
                };
                let review = ReviewRequest {
                    overall_rating: rating,
                    quality_rating: sub(rng),
                    professionalism_rating: sub(rng),
                    value_rating: sub(rng),
                    punctuality_rating: sub(rng),
                    communication_rating: sub(rng),
                    text: rng.random_bool(0.7).then(|| pick(rng, texts).to_owned()),
                    would_recommend: rating >= 4,
                };
                (author, review)
            })
            .collect()
    }
}

/// Display name and business name.
fn names(rng: &mut StdRng, person: &Person, category: &CategorySeed) -> (String, Option<String>) {
    let shop = |rng: &mut StdRng| {
        if person.arabic {
            format!("{} {}", category.shop_ar, pick(rng, SHOP_NAMES_ARABIC))
        } else if rng.random_bool(0.2) {
            format!("{} {}", category.shop_fr, person.last)
        } else {
            format!("{} {}", category.shop_fr, pick(rng, SHOP_NAMES_LATIN))
        }
    };
    match category.family {
        Family::Doctor | Family::Legal => {
            let titled = person.titled(category.family);
            match rng.random_range(0..10) {
                // "Cabinet Dr. Amina Haddad"
                0..2 if !person.arabic => (format!("{} {titled}", category.shop_fr), None),
                0..5 => (titled, Some(shop(rng))),
                _ => (titled, None),
            }
        }
        _ => match rng.random_range(0..20) {
            0..9 => (shop(rng), None),
            9..14 => (person.full(), Some(shop(rng))),
            _ => (person.full(), None),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names {
            wilayas: WILAYAS
                .iter()
                .map(|w| (w.code.to_owned(), ("Wilaya".to_owned(), "ولاية".to_owned())))
                .collect(),
            categories: CATEGORIES
                .iter()
                .map(|c| (c.slug.to_owned(), ("Métier".to_owned(), "مهنة".to_owned())))
                .collect(),
        }
    }

    #[test]
    fn plans_depend_only_on_the_seed_and_the_number() {
        let generator = Generator::new(7, names(), 100).unwrap();
        let a = generator.professional(42);
        let _ = generator.professional(41);
        let b = generator.professional(42);
        assert_eq!(a.profile, b.profile);
        assert_eq!(a.account.id, b.account.id);
        assert_ne!(generator.professional(43).account.id, a.account.id);
        let other = Generator::new(8, names(), 100).unwrap();
        assert_ne!(other.professional(42).account.id, a.account.id);
    }

    #[test]
    fn reviewers_of_one_professional_are_distinct() {
        let generator = Generator::new(1, names(), 20).unwrap();
        for i in 0..500 {
            let mut authors: Vec<usize> = generator
                .professional(i)
                .reviews
                .iter()
                .map(|r| r.0)
                .collect();
            let n = authors.len();
            authors.sort_unstable();
            authors.dedup();
            assert_eq!(authors.len(), n);
            assert!(authors.iter().all(|&a| a < 20));
        }
    }

    #[test]
    fn generated_places_lie_near_their_capital() {
        let generator = Generator::new(3, names(), 10).unwrap();
        for i in 0..2_000 {
            let plan = generator.professional(i);
            let wilaya = WILAYAS
                .iter()
                .find(|w| w.code == plan.profile.wilaya)
                .unwrap();
            if let (Some(lat), Some(lng)) = (plan.profile.latitude, plan.profile.longitude) {
                assert!(
                    (lat - wilaya.capital.0).abs() < 0.6,
                    "{lat} {:?}",
                    wilaya.capital
                );
                assert!(
                    (lng - wilaya.capital.1).abs() < 0.6,
                    "{lng} {:?}",
                    wilaya.capital
                );
            }
        }
    }
}
