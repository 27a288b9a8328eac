//! `search`: the directory's mix of searches (`crate::directory_queries`), each recorded as
//! `search` and as `search/<class>`. An empty directory is seeded first with the generator of
//! `directory-seed`, when the harness knows the database.

use std::future::Future;
use std::time::Duration;

use contacto_client::api::SearchQuery;
use contacto_client::{Client, SearchBuilder};

use super::{Context, Outcome};
use crate::directory_queries::{Mix, QueryClass};
use crate::directory_seed::{BoxError, SeedOptions, seed};
use crate::load::runner::{Vu, Workload};

/// The per-class operation names, in the order of [`QueryClass::ALL`].
const CLASS_OPS: [&str; 12] = [
    "search/text_fr",
    "search/text_ar",
    "search/translit",
    "search/typo",
    "search/partial",
    "search/name",
    "search/text+filters",
    "search/category+wilaya",
    "search/filters",
    "search/geo",
    "search/page_2_5",
    "search/browse",
];

/// Profiles the scenarios pick from for profile and review calls.
const PROFILES_KEPT: i64 = 1_000;

/// The directory's professionals (up to [`PROFILES_KEPT`] slugs), after seeding an empty
/// directory with `settings.professionals` when the database is known.
///
/// # Errors
///
/// When the server cannot be searched or seeding fails.
pub(super) async fn ensure_directory(ctx: &Context) -> Result<Vec<String>, BoxError> {
    let total = ctx.client.directory().search().limit(1).send().await?.total;
    if total == 0 {
        match (ctx.core(), ctx.database_url.as_deref()) {
            (Ok(core), Some(url)) => {
                let wanted = ctx.settings.professionals;
                eprintln!("seeding the empty directory with {wanted} professionals ...");
                let mut options = SeedOptions::new(wanted);
                options.progress = Some(Duration::from_secs(10));
                let report = seed(&core, url, &options).await?;
                eprintln!("  {report}");
            }
            _ => eprintln!(
                "warning: the directory is empty and, without --database-url, cannot be seeded"
            ),
        }
    }
    let mut slugs = Vec::new();
    for page in 1..=PROFILES_KEPT / 100 {
        let found = ctx
            .client
            .directory()
            .search()
            .limit(100)
            .page(page)
            .send()
            .await?;
        let last = found.items.len() < 100;
        slugs.extend(found.items.into_iter().map(|hit| hit.slug));
        if last {
            break;
        }
    }
    Ok(slugs)
}

/// `query` as a search of `client`.
pub(super) fn search(client: &Client, query: SearchQuery) -> SearchBuilder<'_> {
    let mut search = client.directory().search();
    let SearchQuery {
        q,
        category,
        wilaya,
        commune,
        min_rating,
        verified,
        open_now,
        language,
        lat,
        lng,
        radius_km,
        sort,
        page,
        limit,
    } = query;
    if let Some(q) = q {
        search = search.q(q);
    }
    if let Some(category) = category {
        search = search.category(category);
    }
    if let Some(wilaya) = wilaya {
        search = search.wilaya(wilaya);
    }
    if let Some(commune) = commune {
        search = search.commune(commune);
    }
    if let Some(rating) = min_rating {
        search = search.min_rating(rating);
    }
    if let Some(verified) = verified {
        search = search.verified(verified);
    }
    if let Some(open_now) = open_now {
        search = search.open_now(open_now);
    }
    if let Some(language) = language {
        search = search.language(language);
    }
    if let (Some(lat), Some(lng)) = (lat, lng) {
        search = search.near(lat, lng, radius_km.unwrap_or(25.0));
    }
    if let Some(sort) = sort {
        search = search.sort(sort);
    }
    if let Some(page) = page {
        search = search.page(page);
    }
    if let Some(limit) = limit {
        search = search.limit(limit);
    }
    search
}

/// One search of the mix, recorded as `search` and as its class.
pub(super) async fn one_search(client: &Client, mix: &Mix, vu: &mut Vu) {
    let (class, query): (QueryClass, SearchQuery) = mix.draw(&mut vu.rng);
    vu.also_as(CLASS_OPS[class.index()]);
    vu.call("search", search(client, query).send()).await;
}

struct Search {
    client: Client,
    mix: Mix,
}

impl Workload for Search {
    fn iteration<'a>(&'a self, vu: &'a mut Vu) -> impl Future<Output = ()> + Send + 'a {
        one_search(&self.client, &self.mix, vu)
    }
}

pub(super) async fn run(ctx: &Context, outcome: &mut Outcome) -> Result<(), BoxError> {
    let professionals = ensure_directory(ctx).await?;
    eprintln!("{} professionals to search among", professionals.len());
    let workload = Search {
        client: ctx.client.clone(),
        mix: Mix::new(),
    };
    outcome.phase(ctx, "search", workload).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_operations_follow_the_classes() {
        for class in QueryClass::ALL {
            assert_eq!(CLASS_OPS[class.index()], format!("search/{}", class.name()));
        }
    }
}
