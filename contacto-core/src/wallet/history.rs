//! A wallet's history: its posted transactions and its deposits, withdrawals and holds not
//! posted, newest first, in pages that walk both with one cursor.

use time::OffsetDateTime;
use uuid::Uuid;

use super::{MAX_PAGE_SIZE, Wallets, store};
use crate::api::{HistoryItem, HistoryStatus, TransactionKind, TransactionPage, WalletId};
use crate::error::{Error, Result};
use crate::identity::Principal;

/// Filters of a wallet's history page.
#[derive(Debug, Clone, Default)]
pub struct HistoryQuery {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1..=100 (default 20).
    pub limit: Option<i64>,
    /// Only this kind.
    pub kind: Option<TransactionKind>,
    /// Only lines in this status, or every line; posted lines alone by default.
    pub status: HistoryStatus,
    /// Only lines at or after this time.
    pub from: Option<OffsetDateTime>,
    /// Only lines before this time.
    pub to: Option<OffsetDateTime>,
}

/// The description of a deposit's transaction, and of its line while not posted.
pub(crate) fn deposit_description(method: &str) -> String {
    format!("top-up {method}")
}

/// The description of a withdrawal's completion, and of its line while not posted.
pub(crate) fn payout_description(masked_rib: &str) -> String {
    format!("payout to RIB {masked_rib}")
}

/// The description of a hold's capture, and of its line while not posted.
pub(crate) fn capture_description(hold: &str) -> String {
    format!("capture of hold {hold}")
}

/// Where one of the history's two sequences resumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position<T> {
    /// From the newest: nothing of it read yet.
    Start,
    /// Below this point: posted lines below this `seq`, the others below this `(created_at, id)`.
    Before(T),
    /// Nothing left of it for this reader.
    Done,
}

/// A line not posted's place in its sequence.
type Place = (OffsetDateTime, Uuid);

/// A page's position in both of the history's sequences: the posted entries (by the wallet's
/// `seq`) and the lines not posted (by `(created_at, id)`), for the status it lists and the
/// filters it was read with (a fingerprint of `type`, `from` and `to`): a position pinned under
/// some filters means nothing under others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
    status: HistoryStatus,
    filters: u32,
    posted: Position<i64>,
    unposted: Position<Place>,
}

/// A fingerprint of a page's filters besides its status, for its cursor.
fn filters_fingerprint(query: &HistoryQuery) -> u32 {
    use sha2::{Digest, Sha256};
    let micros = |time: Option<OffsetDateTime>| time.map(|t| t.unix_timestamp_nanos() / 1_000);
    let filters = format!(
        "{:?}|{:?}|{:?}",
        query.kind.map(TransactionKind::as_str),
        micros(query.from),
        micros(query.to)
    );
    let digest = Sha256::digest(filters.as_bytes());
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

impl Cursor {
    fn start(status: HistoryStatus, filters: u32) -> Cursor {
        Cursor {
            status,
            filters,
            posted: Position::Start,
            unposted: Position::Start,
        }
    }

    /// A page of posted lines alone has a bare `seq` for cursor, as before lines not posted were
    /// listed, so that such cursors pass between builds during a rollout (its filters are not
    /// checked, as they were not before). Any other page's is
    /// `{status}.{posted}.{others}.{filters}`, each position `_` (start), `x` (done), a `seq` or
    /// `{micros}-{uuid}`, and the filters' fingerprint in hexadecimal.
    fn parse(text: &str, filters_now: u32) -> Option<Cursor> {
        let positive = |digits: &str| digits.parse::<i64>().ok().filter(|n| *n > 0);
        let mut parts = text.split('.');
        let (Some(status), Some(posted), Some(unposted), Some(filters), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Some(Cursor {
                status: HistoryStatus::Posted,
                filters: filters_now,
                posted: Position::Before(positive(text)?),
                unposted: Position::Done,
            });
        };
        let status = HistoryStatus::from_name(status)?;
        if filters.len() != 8 {
            return None;
        }
        let filters = u32::from_str_radix(filters, 16).ok()?;
        let posted = match posted {
            "_" => Position::Start,
            "x" => Position::Done,
            seq => Position::Before(positive(seq)?),
        };
        let unposted = match unposted {
            "_" => Position::Start,
            "x" => Position::Done,
            place => {
                let (micros, id) = place.split_once('-')?;
                let micros = micros.parse::<i64>().ok()?;
                let time =
                    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000).ok()?;
                Position::Before((time, Uuid::try_parse(id).ok()?))
            }
        };
        Some(Cursor {
            status,
            filters,
            posted,
            unposted,
        })
    }

    fn format(self) -> String {
        if let (HistoryStatus::Posted, Position::Before(seq)) = (self.status, self.posted) {
            return seq.to_string();
        }
        let posted = match self.posted {
            Position::Start => "_".to_owned(),
            Position::Done => "x".to_owned(),
            Position::Before(seq) => seq.to_string(),
        };
        let unposted = match self.unposted {
            Position::Start => "_".to_owned(),
            Position::Done => "x".to_owned(),
            Position::Before((time, id)) => {
                format!("{}-{}", time.unix_timestamp_nanos() / 1_000, id.simple())
            }
        };
        format!(
            "{}.{posted}.{unposted}.{:08x}",
            self.status.as_str(),
            self.filters
        )
    }
}

/// The line statuses of lines not posted a history status lists.
fn unposted_statuses(status: HistoryStatus) -> &'static [&'static str] {
    match status {
        HistoryStatus::All => &["pending", "failed", "voided"],
        HistoryStatus::Pending => &["pending"],
        HistoryStatus::Failed => &["failed"],
        HistoryStatus::Voided => &["voided"],
        HistoryStatus::Posted => &[],
    }
}

/// Whether lines not posted can have this kind: a deposit, withdrawal or hold that goes through
/// posts a `deposit`, `withdrawal_completion` or `hold_capture`.
fn unposted_kind(kind: Option<TransactionKind>) -> bool {
    matches!(
        kind,
        None | Some(
            TransactionKind::Deposit
                | TransactionKind::WithdrawalCompletion
                | TransactionKind::HoldCapture
        )
    )
}

/// Merges two newest-first sequences into a page of at most `limit` lines, and says where each
/// resumes. On equal times the posted line comes first.
///
/// A sequence the page took nothing from is pinned where this page read it, so that what arrives
/// later (a deposit confirmed, a hold made) is not listed below lines older than it: just above
/// the newest line read of it, or, when none was read, as done.
fn merge(
    posted: Vec<(i64, HistoryItem)>,
    unposted: Vec<HistoryItem>,
    limit: usize,
    mut cursor: Cursor,
) -> (Vec<HistoryItem>, Option<Cursor>) {
    let newest_posted = posted.first().map(|(seq, _)| *seq);
    let newest_unposted = unposted.first().map(|line| line.created_at);
    let mut posted = posted.into_iter().peekable();
    let mut unposted = unposted.into_iter().peekable();
    let mut items = Vec::with_capacity(limit);
    while items.len() < limit {
        let take_posted = match (posted.peek(), unposted.peek()) {
            (Some((_, p)), Some(u)) => p.created_at >= u.created_at,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        if take_posted {
            if let Some((seq, item)) = posted.next() {
                cursor.posted = Position::Before(seq);
                items.push(item);
            }
        } else if let Some(item) = unposted.next() {
            cursor.unposted = Position::Before((item.created_at, item.id));
            items.push(item);
        }
    }
    if cursor.posted == Position::Start {
        cursor.posted = newest_posted.map_or(Position::Done, |seq| Position::Before(seq + 1));
    }
    if cursor.unposted == Position::Start {
        cursor.unposted = newest_unposted.map_or(Position::Done, |time| {
            Position::Before((time + time::Duration::MICROSECOND, Uuid::nil()))
        });
    }
    let more = posted.peek().is_some() || unposted.peek().is_some();
    (items, more.then_some(cursor))
}

/// What a history page reads: the posted lines, the others, or both (each from its position in
/// `lines`).
struct Page<'a> {
    with_posted: bool,
    with_unposted: bool,
    lines: store::LinesFilter<'a>,
}

impl<T: Copy> Position<T> {
    /// Whether anything is left to read of the sequence, and below what.
    fn resume(self) -> (bool, Option<T>) {
        match self {
            Position::Start => (true, None),
            Position::Before(point) => (true, Some(point)),
            Position::Done => (false, None),
        }
    }
}

impl Wallets<'_> {
    /// Reads a page's lines: the posted ones with their `seq`, and the others.
    async fn read_page(
        &self,
        db: &impl tokio_postgres::GenericClient,
        wallet: WalletId,
        page: &Page<'_>,
    ) -> Result<(Vec<(i64, HistoryItem)>, Vec<HistoryItem>)> {
        match (page.with_posted, page.with_unposted) {
            (false, false) => Ok((Vec::new(), Vec::new())),
            (true, false) => {
                let lines = store::history(db, wallet, &page.lines.posted);
                Ok((self.q("wallet.history", lines).await?, Vec::new()))
            }
            (with_posted, true) => {
                let statement = if with_posted {
                    "wallet.history_lines"
                } else {
                    "wallet.history_unposted"
                };
                let read = store::history_lines(db, wallet, &page.lines, with_posted);
                self.q(statement, read).await
            }
        }
    }

    /// A page of a wallet's history, newest first: its posted transactions, or with `status` its
    /// deposits, withdrawals and holds not posted, or everything ([`HistoryItem`]).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`], [`Error::Validation`] for a bad cursor or limit, or a cursor of a
    /// page read with another status or other filters.
    pub async fn history(
        &self,
        principal: &Principal,
        wallet: WalletId,
        query: &HistoryQuery,
    ) -> Result<TransactionPage> {
        let limit = query.limit.unwrap_or(20);
        if !(1..=MAX_PAGE_SIZE).contains(&limit) {
            return Err(Error::invalid(
                "limit",
                "out_of_range",
                format!("between 1 and {MAX_PAGE_SIZE}"),
            ));
        }
        let filters = filters_fingerprint(query);
        let cursor = match query.cursor.as_deref() {
            None => Cursor::start(query.status, filters),
            Some(text) => {
                let cursor = Cursor::parse(text, filters).ok_or_else(|| {
                    Error::invalid("cursor", "invalid_format", "not a cursor of this API")
                })?;
                if cursor.status != query.status {
                    return Err(Error::invalid(
                        "cursor",
                        "invalid_format",
                        format!(
                            "the cursor of a page of status {}, not {}",
                            cursor.status.as_str(),
                            query.status.as_str()
                        ),
                    ));
                }
                if cursor.filters != filters {
                    return Err(Error::invalid(
                        "cursor",
                        "invalid_format",
                        "the cursor of a page read with other type, from or to",
                    ));
                }
                cursor
            }
        };
        let statuses = unposted_statuses(query.status);
        let (posted_left, before_seq) = cursor.posted.resume();
        let (unposted_left, after) = cursor.unposted.resume();
        let page = Page {
            with_posted: posted_left
                && matches!(query.status, HistoryStatus::Posted | HistoryStatus::All),
            with_unposted: unposted_left && unposted_kind(query.kind) && !statuses.is_empty(),
            lines: store::LinesFilter {
                posted: store::HistoryFilter {
                    before_seq,
                    kind: query.kind.map(TransactionKind::as_str),
                    from: query.from,
                    to: query.to,
                    limit: limit + 1,
                },
                after,
                statuses,
            },
        };
        let (posted, unposted) = if query.cursor.is_some() {
            // A later page goes to the primary: its cursor stands where an earlier page's
            // snapshot saw the sequences (below an entry posted by someone else, say, or where a
            // sequence was pinned), which a replica further behind may not have reached, and the
            // page would go on below lines it does not have yet, skipping them for good. A
            // replica is only known to have the caller's own last write.
            let db = self.app.db().primary().await?;
            self.owned(&**db, principal, wallet).await?;
            self.read_page(&**db, wallet, &page).await?
        } else {
            // Lag-tolerant: a replica may answer once it has replayed the caller's last write.
            crate::db::read_on!(self.app.db(), Some(principal.user_id), |db| {
                self.owned(&***db, principal, wallet).await?;
                self.read_page(&***db, wallet, &page).await
            })?
        };
        let limit = usize::try_from(limit).unwrap_or(0);
        let (items, next) = merge(posted, unposted, limit, cursor);
        Ok(TransactionPage {
            items,
            next_cursor: next.map(Cursor::format),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::TransactionStatus;

    fn at(seconds: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(seconds).unwrap()
    }

    #[test]
    fn cursors_read_back_what_they_wrote() {
        let time = OffsetDateTime::from_unix_timestamp_nanos(1_764_000_000_123_456_000).unwrap();
        let id = Uuid::now_v7();
        for cursor in [
            Cursor {
                posted: Position::Before(42),
                unposted: Position::Done,
                status: HistoryStatus::Posted,
                filters: 7,
            },
            Cursor::start(HistoryStatus::All, 7),
            Cursor {
                posted: Position::Done,
                unposted: Position::Before((time, id)),
                status: HistoryStatus::Pending,
                filters: u32::MAX,
            },
            Cursor {
                posted: Position::Before(7),
                unposted: Position::Done,
                status: HistoryStatus::All,
                filters: 0,
            },
        ] {
            assert_eq!(
                Cursor::parse(&cursor.format(), cursor.filters),
                Some(cursor),
                "{cursor:?}"
            );
        }
    }

    #[test]
    fn a_page_of_posted_lines_alone_has_a_bare_number_for_cursor() {
        let cursor = Cursor {
            posted: Position::Before(17),
            ..Cursor::start(HistoryStatus::Posted, 7)
        };
        assert_eq!(cursor.format(), "17");
        assert_eq!(
            Cursor::parse("17", 7),
            Some(Cursor {
                unposted: Position::Done,
                ..cursor
            })
        );
        let all = Cursor {
            status: HistoryStatus::All,
            ..cursor
        };
        assert_eq!(all.format(), "all.17._.00000007");
    }

    #[test]
    fn what_is_not_a_cursor_is_refused() {
        for text in [
            "",
            "0",
            "-3",
            "abc",
            "1.",
            ".x",
            "all.1",
            "all.1.y",
            "all._.12",
            "all._.12-zz",
            "all.1.2.3",
            "all._.-1-00",
            "every._._",
            "all.0._",
        ] {
            assert_eq!(Cursor::parse(text, 7), None, "{text:?}");
        }
    }

    fn line(id: u128, seconds: i64, status: TransactionStatus) -> HistoryItem {
        HistoryItem {
            id: Uuid::from_u128(id),
            kind: TransactionKind::Deposit,
            status,
            currency: "DZD".into(),
            amount: 1,
            description: None,
            entries: Vec::new(),
            created_at: at(seconds),
        }
    }

    #[test]
    fn pages_merge_by_time_and_resume_each_sequence_where_it_stopped() {
        let posted = vec![
            (9, line(1, 50, TransactionStatus::Posted)),
            (8, line(2, 30, TransactionStatus::Posted)),
            (7, line(3, 10, TransactionStatus::Posted)),
        ];
        let unposted = vec![
            line(4, 40, TransactionStatus::Pending),
            line(5, 30, TransactionStatus::Failed),
        ];
        let start = Cursor::start(HistoryStatus::All, 7);
        let (items, next) = merge(posted, unposted, 3, start);
        let ids: Vec<u128> = items.iter().map(|i| i.id.as_u128()).collect();
        assert_eq!(
            ids,
            [1, 4, 2],
            "newest first, the posted line first on a tie"
        );
        let next = next.expect("lines remain");
        assert_eq!(next.posted, Position::Before(8));
        assert_eq!(
            next.unposted,
            Position::Before((at(40), Uuid::from_u128(4)))
        );
        let (items, next) = merge(
            vec![(7, line(3, 10, TransactionStatus::Posted))],
            vec![line(5, 30, TransactionStatus::Failed)],
            3,
            next,
        );
        let ids: Vec<u128> = items.iter().map(|i| i.id.as_u128()).collect();
        assert_eq!(ids, [5, 3]);
        assert_eq!(next, None, "the last page has no cursor");
    }

    #[test]
    fn a_sequence_the_page_took_nothing_from_is_pinned_where_it_was_read() {
        let start = Cursor::start(HistoryStatus::All, 7);
        let (_, next) = merge(
            vec![(4, line(1, 10, TransactionStatus::Posted))],
            vec![
                line(2, 30, TransactionStatus::Pending),
                line(3, 20, TransactionStatus::Pending),
            ],
            1,
            start,
        );
        let next = next.unwrap();
        assert_eq!(next.posted, Position::Before(5), "at and below seq 4");
        let (_, next) = merge(
            vec![
                (4, line(1, 30, TransactionStatus::Posted)),
                (3, line(2, 20, TransactionStatus::Posted)),
            ],
            vec![line(3, 10, TransactionStatus::Pending)],
            1,
            start,
        );
        assert_eq!(
            next.unwrap().unposted,
            Position::Before((at(10) + time::Duration::MICROSECOND, Uuid::nil())),
            "at and before the newest line read"
        );
        let (_, next) = merge(
            vec![
                (4, line(1, 30, TransactionStatus::Posted)),
                (3, line(2, 20, TransactionStatus::Posted)),
            ],
            Vec::new(),
            1,
            start,
        );
        assert_eq!(
            next.unwrap().unposted,
            Position::Done,
            "none to come back to"
        );
    }
}
