//! The cache of broad search results. Five rules, each for a measured reason
//! (docs/PERFORMANCE.md, "Directory search"):
//!
//! - Identical searches in flight share one computation: when a popular broad search expires,
//!   every searcher asking it at that moment used to rank the same thousands of rows again.
//! - A cached page is fresh for [`FRESH`]; for [`GRACE`] after that it is still served, while a
//!   background task computes its replacement, so that a search people keep asking never makes
//!   anyone wait for its recomputation. Nothing served is ever older than `FRESH + GRACE`.
//! - At most [`REFRESHES_AT_ONCE`] such background recomputations run at a time. Pages computed
//!   together go stale together: without the bound, every broad search was recomputed at once
//!   every [`FRESH`], each holding a pooled connection, and the searches people were waiting for
//!   queued behind them. A stale page whose refresh finds no free turn is served as it is, and
//!   the next caller tries again.
//! - Only pages worth keeping are stored (the caller decides, by the number of matches); others
//!   are computed fresh each time, but still shared between identical searches in flight.
//! - When the cache is full, pages past their grace go first, then the least recently served,
//!   down to three quarters of [`CAPACITY`]. (It used to start over: every popular page was
//!   computed again at once whenever one-off searches, such as maps around a point, filled it.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use uuid::Uuid;

use crate::api::SearchPage;
use crate::error::{Error, Result};

/// A computed search: the page asked for, and the ids (with distances) of the first
/// [`super::search::RANKED_WINDOW`] results in order, so that the next pages of a broad search
/// need no ranking again, only their rows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Computed {
    /// The page that was asked for.
    pub page: SearchPage,
    /// The first results' ids and distances, best first.
    pub ranked: Vec<(Uuid, Option<f64>)>,
}

/// A computed search, shared by the cache and those it serves.
pub(crate) type Shared = Arc<Computed>;

/// How long a cached page is served as it is.
pub(crate) const FRESH: Duration = Duration::from_secs(30);

/// How long after [`FRESH`] a cached page is still served while it is being recomputed.
pub(crate) const GRACE: Duration = Duration::from_secs(30);

/// Background recomputations of stale pages running at once.
const REFRESHES_AT_ONCE: usize = 1;

/// Pages kept; past this the least recently served go (a page is a few kilobytes).
const CAPACITY: usize = 2000;

/// What the cache holds for one search.
enum Slot {
    /// Being computed; the receiver yields the page once it is there.
    Pending(watch::Receiver<Option<Shared>>),
    /// Computed at `at`, last served at `used`; `refreshing` while a background task
    /// recomputes it.
    Ready {
        at: Instant,
        used: Instant,
        page: Shared,
        refreshing: bool,
    },
}

/// What a caller should do about a search.
pub(crate) enum Lookup {
    /// Serve this page.
    Hit(Shared),
    /// Serve this page, and recompute it in the background with the [`Filler`].
    Stale(Shared, Filler),
    /// An identical search is being computed: wait for its page.
    Wait(watch::Receiver<Option<Shared>>),
    /// Compute the page, then give it to the [`Filler`].
    Miss(Filler),
}

/// The right to store the page of one search, and the duty to tell those waiting for it.
/// Dropped without [`Filler::fill`] (the computation failed or was cancelled), it gives the slot
/// up, and those waiting compute the page themselves.
pub(crate) struct Filler {
    key: String,
    sender: watch::Sender<Option<Shared>>,
    /// A background refresh's turn, given back when the filler is done.
    _turn: Option<OwnedSemaphorePermit>,
    /// Servable pages dropped to make room for this search's slot.
    evicted: usize,
}

/// Cached result pages, by search.
pub(crate) struct ResultCache {
    slots: Mutex<HashMap<String, Slot>>,
    refreshes: Arc<Semaphore>,
}

impl Default for ResultCache {
    fn default() -> Self {
        Self {
            slots: Mutex::default(),
            refreshes: Arc::new(Semaphore::new(REFRESHES_AT_ONCE)),
        }
    }
}

impl ResultCache {
    /// What to do about the search `key`, now.
    pub(crate) fn lookup(&self, key: &str) -> Result<Lookup> {
        self.lookup_at(key, Instant::now())
    }

    fn lookup_at(&self, key: &str, now: Instant) -> Result<Lookup> {
        let mut slots = self.lock()?;
        if let Some(slot) = slots.get_mut(key) {
            match slot {
                Slot::Pending(receiver) if receiver.has_changed().is_ok() => {
                    return Ok(Lookup::Wait(receiver.clone()));
                }
                Slot::Pending(_) => {}
                Slot::Ready {
                    at,
                    used,
                    page,
                    refreshing,
                } => {
                    let age = now.saturating_duration_since(*at);
                    if age < FRESH + GRACE {
                        *used = now;
                    }
                    if age < FRESH {
                        return Ok(Lookup::Hit(page.clone()));
                    }
                    if age < FRESH + GRACE {
                        if *refreshing {
                            return Ok(Lookup::Hit(page.clone()));
                        }
                        let Ok(turn) = Arc::clone(&self.refreshes).try_acquire_owned() else {
                            // Other pages are being refreshed: this one waits for a later caller.
                            return Ok(Lookup::Hit(page.clone()));
                        };
                        *refreshing = true;
                        let page = page.clone();
                        let (sender, _) = watch::channel(None);
                        return Ok(Lookup::Stale(page, Filler::new(key, sender, Some(turn))));
                    }
                }
            }
        }
        let evicted = if slots.len() >= CAPACITY {
            evict(&mut slots, now)
        } else {
            0
        };
        let (sender, receiver) = watch::channel(None);
        slots.insert(key.to_owned(), Slot::Pending(receiver));
        let mut filler = Filler::new(key, sender, None);
        filler.evicted = evicted;
        Ok(Lookup::Miss(filler))
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, Slot>>> {
        self.slots
            .lock()
            .map_err(|_| Error::internal("reading cached results", "poisoned"))
    }
}

/// Makes room in a full cache: pages past their grace and searches whose computation was given
/// up (its request cancelled) go first, then the least recently served pages, down to three
/// quarters of [`CAPACITY`]. Searches still being computed stay: others wait for them. Returns
/// how many servable pages (within their grace) went.
fn evict(slots: &mut HashMap<String, Slot>, now: Instant) -> usize {
    slots.retain(|_, slot| match slot {
        // As in `lookup_at`: a receiver whose sender is gone waits for nothing.
        Slot::Pending(receiver) => receiver.has_changed().is_ok(),
        Slot::Ready { at, .. } => now.saturating_duration_since(*at) < FRESH + GRACE,
    });
    let target = CAPACITY * 3 / 4;
    if slots.len() <= target {
        return 0;
    }
    let mut served: Vec<Instant> = slots
        .values()
        .filter_map(|slot| match slot {
            Slot::Ready { used, .. } => Some(*used),
            Slot::Pending(_) => None,
        })
        .collect();
    let excess = slots.len() - target;
    let before = slots.len();
    if excess >= served.len() {
        slots.retain(|_, slot| matches!(slot, Slot::Pending(_)));
    } else {
        // The excess-th oldest use: everything served before it goes.
        let (_, &mut cutoff, _) = served.select_nth_unstable(excess);
        slots.retain(|_, slot| match slot {
            Slot::Pending(_) => true,
            Slot::Ready { used, .. } => *used >= cutoff,
        });
    }
    before - slots.len()
}

impl Filler {
    fn new(
        key: &str,
        sender: watch::Sender<Option<Shared>>,
        turn: Option<OwnedSemaphorePermit>,
    ) -> Self {
        Self {
            key: key.to_owned(),
            sender,
            _turn: turn,
            evicted: 0,
        }
    }

    /// How many servable pages (within their grace) were dropped to make room for this search.
    pub(crate) fn evicted(&self) -> usize {
        self.evicted
    }

    /// Hands the computed page to those waiting for it, and keeps it when `keep`.
    pub(crate) fn fill(self, cache: &ResultCache, page: &Shared, keep: bool) -> Result<()> {
        {
            let mut slots = cache.lock()?;
            if keep {
                let now = Instant::now();
                slots.insert(
                    self.key.clone(),
                    Slot::Ready {
                        at: now,
                        used: now,
                        page: Arc::clone(page),
                        refreshing: false,
                    },
                );
            } else {
                slots.remove(&self.key);
            }
        }
        // Nobody waiting is fine.
        let _ = self.sender.send(Some(Arc::clone(page)));
        Ok(())
    }

    /// Gives the slot up, when the computation failed: the next caller computes the page. For a
    /// stale page being refreshed, the stale page stays until its grace ends, and the next caller
    /// may refresh it.
    pub(crate) fn abandon(self, cache: &ResultCache) {
        let Ok(mut slots) = cache.lock() else {
            return;
        };
        match slots.get_mut(&self.key) {
            Some(Slot::Pending(receiver)) if receiver.same_channel(&self.sender.subscribe()) => {
                slots.remove(&self.key);
            }
            Some(Slot::Ready { refreshing, .. }) => *refreshing = false,
            _ => {}
        }
    }
}

/// Waits for a page an identical search is computing; `None` when that computation failed or
/// was cancelled.
pub(crate) async fn wait(mut receiver: watch::Receiver<Option<Shared>>) -> Option<Shared> {
    receiver
        .wait_for(Option::is_some)
        .await
        .ok()
        .and_then(|page| page.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::SearchFacets;

    fn page(total: i64) -> Shared {
        Arc::new(Computed {
            page: SearchPage {
                items: Vec::new(),
                total,
                page: 1,
                limit: 20,
                facets: SearchFacets::default(),
            },
            ranked: Vec::new(),
        })
    }

    #[tokio::test]
    async fn identical_searches_share_one_computation_and_stale_pages_are_refreshed_once() {
        let cache = ResultCache::default();
        let start = Instant::now();
        let Ok(Lookup::Miss(filler)) = cache.lookup_at("q", start) else {
            panic!("an empty cache misses");
        };
        let Ok(Lookup::Wait(receiver)) = cache.lookup_at("q", start) else {
            panic!("a search in flight is waited for");
        };
        let waiter = tokio::spawn(wait(receiver));
        filler.fill(&cache, &page(7), true).unwrap();
        assert_eq!(waiter.await.unwrap(), Some(page(7)));
        assert!(matches!(cache.lookup_at("q", start), Ok(Lookup::Hit(p)) if p.page.total == 7));

        // Past its freshness: the first caller refreshes, the others are served meanwhile.
        let later = start + FRESH + Duration::from_secs(1);
        let Ok(Lookup::Stale(stale, refresher)) = cache.lookup_at("q", later) else {
            panic!("a stale page is served and refreshed");
        };
        assert_eq!(stale.page.total, 7);
        assert!(matches!(cache.lookup_at("q", later), Ok(Lookup::Hit(_))));
        refresher.fill(&cache, &page(8), true).unwrap();
        assert!(matches!(cache.lookup("q"), Ok(Lookup::Hit(p)) if p.page.total == 8));

        // Past its grace, a page is never served.
        let much_later = Instant::now() + FRESH + GRACE;
        assert!(matches!(
            cache.lookup_at("q", much_later),
            Ok(Lookup::Miss(_))
        ));
    }

    #[tokio::test]
    async fn a_failed_computation_releases_its_waiters_and_its_slot() {
        let cache = ResultCache::default();
        let now = Instant::now();
        let Ok(Lookup::Miss(filler)) = cache.lookup_at("q", now) else {
            panic!("an empty cache misses");
        };
        let Ok(Lookup::Wait(receiver)) = cache.lookup_at("q", now) else {
            panic!("a search in flight is waited for");
        };
        filler.abandon(&cache);
        assert_eq!(wait(receiver).await, None, "the waiter computes it itself");
        let Ok(Lookup::Miss(filler)) = cache.lookup_at("q", now) else {
            panic!("an abandoned search is computed again");
        };

        // A page not worth keeping still reaches those waiting, and is not kept.
        let Ok(Lookup::Wait(receiver)) = cache.lookup_at("q", now) else {
            panic!("a search in flight is waited for");
        };
        filler.fill(&cache, &page(3), false).unwrap();
        assert_eq!(wait(receiver).await, Some(page(3)));
        assert!(matches!(cache.lookup_at("q", now), Ok(Lookup::Miss(_))));

        // A computation dropped without a word (its request cancelled) frees the slot too.
        assert!(matches!(cache.lookup_at("q", now), Ok(Lookup::Miss(_))));
    }

    #[tokio::test]
    async fn stale_pages_are_refreshed_one_at_a_time() {
        let cache = ResultCache::default();
        let start = Instant::now();
        for key in ["a", "b"] {
            let Ok(Lookup::Miss(filler)) = cache.lookup_at(key, start) else {
                panic!("an empty cache misses");
            };
            filler.fill(&cache, &page(1), true).unwrap();
        }
        let later = Instant::now() + FRESH + Duration::from_secs(1);
        let Ok(Lookup::Stale(_, refreshing_a)) = cache.lookup_at("a", later) else {
            panic!("the first stale page is refreshed");
        };
        assert!(
            matches!(cache.lookup_at("b", later), Ok(Lookup::Hit(p)) if p.page.total == 1),
            "while `a` is refreshed, stale `b` is served as it is"
        );
        refreshing_a.fill(&cache, &page(2), true).unwrap();
        let Ok(Lookup::Stale(_, refreshing_b)) = cache.lookup_at("b", later) else {
            panic!("once `a` is done, `b` gets its turn");
        };
        // A refresh that fails gives its turn back too.
        refreshing_b.abandon(&cache);
        assert!(matches!(cache.lookup_at("b", later), Ok(Lookup::Stale(..))));
    }

    #[tokio::test]
    async fn a_full_cache_drops_expired_then_least_recently_served_pages() {
        let cache = ResultCache::default();
        let start = Instant::now();
        for i in 0..CAPACITY {
            let Ok(Lookup::Miss(filler)) = cache.lookup_at(&i.to_string(), start) else {
                panic!("an empty cache misses");
            };
            filler.fill(&cache, &page(1), true).unwrap();
        }
        // Every tenth page is asked again a little later.
        let soon = Instant::now() + Duration::from_secs(1);
        for i in (0..CAPACITY).step_by(10) {
            assert!(matches!(
                cache.lookup_at(&i.to_string(), soon),
                Ok(Lookup::Hit(_))
            ));
        }
        let Ok(Lookup::Miss(pending)) = cache.lookup_at("new", soon) else {
            panic!("a new search misses");
        };
        let kept = cache.lock().unwrap().len();
        assert!(kept <= CAPACITY * 3 / 4 + 1, "{kept} pages kept");
        // Every page was still servable: each one dropped counts (`new` is not a page yet).
        assert_eq!(pending.evicted(), CAPACITY - (kept - 1));
        let Ok(Lookup::Miss(newer)) = cache.lookup_at("newer", soon) else {
            panic!("a new search misses");
        };
        assert_eq!(newer.evicted(), 0, "counted once: room is left");
        drop(newer);
        for i in (0..CAPACITY).step_by(10) {
            assert!(
                matches!(cache.lookup_at(&i.to_string(), soon), Ok(Lookup::Hit(_))),
                "page {i}, served recently, is kept"
            );
        }
        assert!(matches!(cache.lookup_at("new", soon), Ok(Lookup::Wait(_))));

        // Past their grace, pages go first, whatever their use; so do searches whose
        // computation was given up (each `more` filler below is dropped at once).
        let much_later = Instant::now() + FRESH + GRACE;
        let Ok(Lookup::Miss(_)) = cache.lookup_at("0", much_later) else {
            panic!("an expired page is computed again");
        };
        let mut i = 0;
        while cache.lock().unwrap().len() < CAPACITY {
            let _ = cache.lookup_at(&format!("more {i}"), much_later);
            i += 1;
        }
        let Ok(Lookup::Miss(last)) = cache.lookup_at("last", much_later) else {
            panic!("a new search misses");
        };
        let left = cache.lock().unwrap().len();
        assert!(left < CAPACITY / 2, "expired pages dropped: {left} left");
        assert_eq!(left, 2, "only `new` and `last` are still being computed");
        assert_eq!(
            last.evicted(),
            0,
            "pages past their grace and given-up searches are not counted as evicted"
        );
    }
}
