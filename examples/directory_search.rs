//! Embeds `contacto-core` and uses the directory: professionals create their profiles and
//! services, a customer reviews one, and searches find them in French (with a typo and without
//! accents), in Arabic, in Latin transliteration, by category and wilaya, and around a point.
//!
//! Uses `CONTACTO_DATABASE_URL` when set; otherwise creates a throwaway PostgreSQL cluster in a
//! temporary directory from the installed server programs, and removes it at the end.
//!
//! `cargo run -p contacto-examples --example directory_search`

use contacto_core::api::{
    OpeningHours, PriceUnit, ProfessionalRequest, RegisterRequest, ReviewRequest, Role, SearchPage,
    SearchQuery, SearchSort, ServiceRequest, TimeRange,
};
use contacto_core::managed::{ClusterOptions, ManagedPostgres, PgBinaries};
use contacto_core::{AuthConfig, Config, Contacto, DatabaseConfig, Principal, WalletConfig};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let (url, cluster) = match std::env::var("CONTACTO_DATABASE_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            let root =
                std::env::temp_dir().join(format!("contacto-example-{}", std::process::id()));
            let cluster =
                ManagedPostgres::open(PgBinaries::locate(None)?, ClusterOptions::new(&root))?;
            cluster.start()?;
            cluster.ensure_database("contacto").await?;
            (cluster.connection_string("contacto"), Some(cluster))
        }
    };
    let outcome = run(&url).await;
    if let Some(cluster) = cluster {
        cluster.stop()?;
        std::fs::remove_dir_all(cluster.root())?;
    }
    outcome
}

/// One professional of the example: who they are, where, and what they offer.
struct Pro {
    name: &'static str,
    business: Option<&'static str>,
    category: &'static str,
    wilaya: &'static str,
    commune: &'static str,
    at: (f64, f64),
    bio_fr: &'static str,
    bio_ar: &'static str,
    services: &'static [&'static str],
}

const PROS: [Pro; 6] = [
    Pro {
        name: "Karim Benali",
        business: Some("Plomberie El Amel"),
        category: "plombier",
        wilaya: "16",
        commune: "Bab Ezzouar",
        at: (36.7213, 3.1832),
        bio_fr: "Plombier à Bab Ezzouar depuis 2009 : fuites, chauffe-eau, débouchage.",
        bio_ar: "سباك في باب الزوار، إصلاح التسربات وتركيب سخانات الماء.",
        services: &["Débouchage de canalisations", "Installation de chauffe-eau"],
    },
    Pro {
        name: "محمد بن علي",
        business: None,
        category: "electricien",
        wilaya: "16",
        commune: "Kouba",
        at: (36.7269, 3.0850),
        bio_fr: "Électricien du bâtiment, dépannage rapide à Kouba et environs.",
        bio_ar: "كهربائي معتمد، تركيب وصيانة الشبكات الكهربائية المنزلية.",
        services: &["Dépannage électrique", "Tableau électrique"],
    },
    Pro {
        name: "Dr. Amina Haddad",
        business: Some("Cabinet Dr. Amina Haddad"),
        category: "pediatrie",
        wilaya: "31",
        commune: "Oran",
        at: (35.6971, -0.6308),
        bio_fr: "Pédiatre : consultations, vaccinations et suivi du nourrisson.",
        bio_ar: "طبيبة أطفال، فحوصات وتلقيح ومتابعة الرضع.",
        services: &["Consultation pédiatrique", "Vaccination"],
    },
    Pro {
        name: "Boulangerie Essalam",
        business: None,
        category: "boulangerie-patisserie",
        wilaya: "25",
        commune: "Constantine",
        at: (36.3650, 6.6147),
        bio_fr: "Pain traditionnel, gâteaux de fête et pâtisserie orientale.",
        bio_ar: "مخبزة وحلويات تقليدية في قسنطينة.",
        services: &["Pain traditionnel", "Gâteaux de fête"],
    },
    Pro {
        name: "Sofiane Meziane",
        business: Some("Garage Ennour"),
        category: "mecanique-auto",
        wilaya: "16",
        commune: "Hussein Dey",
        at: (36.7411, 3.0977),
        bio_fr: "Mécanique générale toutes marques : vidange, freinage, diagnostic.",
        bio_ar: "ميكانيك السيارات لجميع العلامات.",
        services: &["Vidange", "Diagnostic moteur"],
    },
    Pro {
        name: "Yasmine Brahimi",
        business: None,
        category: "plombier",
        wilaya: "31",
        commune: "Bir El Djir",
        at: (35.7206, -0.5453),
        bio_fr: "Plomberie sanitaire et chauffage à Oran.",
        bio_ar: "ترصيص صحي وتدفئة في وهران.",
        services: &["Réparation de fuites"],
    },
];

async fn run(url: &str) -> Result<(), BoxError> {
    let contacto = Contacto::builder(Config {
        database: DatabaseConfig::new(url),
        auth: AuthConfig::new("an example secret of at least 32 bytes!"),
        wallet: WalletConfig::default(),
    })
    .build()?;
    contacto.migrate().await?;
    let directory = contacto.directory();

    let week = OpeningHours {
        sun: day("08:00", "18:00"),
        mon: day("08:00", "18:00"),
        tue: day("08:00", "18:00"),
        wed: day("08:00", "18:00"),
        thu: day("08:00", "18:00"),
        sat: day("09:00", "13:00"),
        ..OpeningHours::default()
    };
    let mut slugs = Vec::new();
    for (n, pro) in PROS.iter().enumerate() {
        let owner = register(&contacto, &format!("pro{n}"), pro.name, Role::Professional).await?;
        let profile = directory
            .create_profile(
                &owner,
                &ProfessionalRequest {
                    display_name: pro.name.to_owned(),
                    business_name: pro.business.map(str::to_owned),
                    bio_fr: Some(pro.bio_fr.to_owned()),
                    bio_ar: Some(pro.bio_ar.to_owned()),
                    category: pro.category.to_owned(),
                    wilaya: pro.wilaya.to_owned(),
                    commune: pro.commune.to_owned(),
                    latitude: Some(pro.at.0),
                    longitude: Some(pro.at.1),
                    phone: Some("0550 12 34 56".to_owned()),
                    languages: vec!["ar".to_owned(), "fr".to_owned()],
                    opening_hours: week.clone(),
                    years_experience: Some(5 + n as i16),
                    ..ProfessionalRequest::default()
                },
            )
            .await?;
        for service in pro.services {
            directory
                .add_service(
                    &owner,
                    &ServiceRequest {
                        name: (*service).to_owned(),
                        description: None,
                        price_min_minor: Some(200_000),
                        price_max_minor: Some(500_000),
                        price_unit: PriceUnit::Visit,
                        duration_minutes: Some(60),
                    },
                )
                .await?;
        }
        println!(
            "{} is /{} ({}, {})",
            profile.display_name, profile.slug, profile.category.name_fr, profile.wilaya.name_fr
        );
        slugs.push(profile.slug);
    }

    let customer = register(&contacto, "client", "Nadia Kaci", Role::Customer).await?;
    directory
        .review(
            &customer,
            &slugs[0],
            &ReviewRequest {
                overall_rating: 5,
                quality_rating: Some(5),
                professionalism_rating: None,
                value_rating: Some(4),
                punctuality_rating: None,
                communication_rating: None,
                text: Some("Intervention rapide et propre, je recommande.".to_owned()),
                would_recommend: true,
            },
        )
        .await?;

    let searches = [
        (
            "French, no accents and a typo",
            SearchQuery {
                q: Some("electricen".into()),
                ..SearchQuery::default()
            },
            "محمد بن علي",
        ),
        (
            "Arabic",
            SearchQuery {
                q: Some("سباك".into()),
                ..SearchQuery::default()
            },
            "Karim Benali",
        ),
        (
            "an Arabic name in Latin letters",
            SearchQuery {
                q: Some("mohamed".into()),
                ..SearchQuery::default()
            },
            "محمد بن علي",
        ),
        (
            "Darija in Latin letters",
            SearchQuery {
                q: Some("tbib".into()),
                ..SearchQuery::default()
            },
            "Dr. Amina Haddad",
        ),
        (
            "category and wilaya, best rated first",
            SearchQuery {
                category: Some("plombier".into()),
                wilaya: Some("16".into()),
                sort: Some(SearchSort::Rating),
                ..SearchQuery::default()
            },
            "Karim Benali",
        ),
        (
            "within 10 km of Algiers' Grande Poste, nearest first",
            SearchQuery {
                lat: Some(36.7731),
                lng: Some(3.0595),
                radius_km: Some(10.0),
                sort: Some(SearchSort::Distance),
                ..SearchQuery::default()
            },
            "Sofiane Meziane",
        ),
    ];
    for (what, query, expected) in searches {
        let page = directory.search(&query).await?;
        print_page(what, &query, &page);
        // The example doubles as a smoke test: a search that misses its professional is a bug.
        if !page.items.iter().any(|hit| hit.display_name == expected) {
            return Err(format!("{what}: {expected} was not found").into());
        }
    }
    Ok(())
}

fn day(open: &str, close: &str) -> Vec<TimeRange> {
    vec![TimeRange {
        open: open.to_owned(),
        close: close.to_owned(),
    }]
}

fn print_page(what: &str, query: &SearchQuery, page: &SearchPage) {
    let asked = query
        .q
        .as_deref()
        .map_or_else(String::new, |q| format!(" {q:?}"));
    println!("\n{what}{asked}: {} found", page.total);
    for hit in &page.items {
        let distance = hit
            .distance_km
            .map_or_else(String::new, |km| format!(", {km} km"));
        let rating = hit.rating.average.map_or_else(String::new, |average| {
            format!(", {average}/5 ({} reviews)", hit.rating.count)
        });
        println!(
            "  {} [{}] {}, wilaya {}{distance}{rating}{}",
            hit.display_name,
            hit.category.name_fr,
            hit.commune,
            hit.wilaya,
            if hit.open_now { ", open now" } else { "" }
        );
    }
}

async fn register(
    contacto: &Contacto,
    handle: &str,
    full_name: &str,
    role: Role,
) -> Result<Principal, BoxError> {
    let session = contacto
        .identity()
        .register(&RegisterRequest {
            email: format!("{handle}.{}@example.dz", std::process::id()),
            password: "une phrase de passe longue".to_owned(),
            full_name: full_name.to_owned(),
            phone: None,
            role,
        })
        .await?;
    Ok(contacto
        .identity()
        .authenticate(Some(&format!("Bearer {}", session.token)))
        .await?)
}
