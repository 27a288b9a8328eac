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

/// Where the lines not posted resume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unposted {
    /// From the newest.
    Start,
    /// After this `(created_at, id)`.
    After(OffsetDateTime, Uuid),
    /// None left (or a cursor from before they were listed).
    Done,
}

/// A page's position in both of the history's sequences: the posted entries (by the wallet's
/// `seq`) and the lines not posted (by `(created_at, id)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
    /// The posted entries resume below this `seq`; from the newest when `None`.
    before_seq: Option<i64>,
    unposted: Unposted,
}

impl Cursor {
    const START: Cursor = Cursor {
        before_seq: None,
        unposted: Unposted::Start,
    };

    /// `{seq or _}.{_ | x | micros-uuid}`, or a bare number: the cursor of a page of posted lines
    /// alone, the same as before lines not posted were listed, so that cursors pass between
    /// builds during a rollout.
    fn parse(text: &str) -> Option<Cursor> {
        let positive = |digits: &str| digits.parse::<i64>().ok().filter(|n| *n > 0);
        let Some((posted, unposted)) = text.split_once('.') else {
            return Some(Cursor {
                before_seq: Some(positive(text)?),
                unposted: Unposted::Done,
            });
        };
        let before_seq = match posted {
            "_" => None,
            seq => Some(positive(seq)?),
        };
        let unposted = match unposted {
            "_" => Unposted::Start,
            "x" => Unposted::Done,
            position => {
                let (micros, id) = position.split_once('-')?;
                let micros = micros.parse::<i64>().ok()?;
                let time =
                    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000).ok()?;
                Unposted::After(time, Uuid::try_parse(id).ok()?)
            }
        };
        Some(Cursor {
            before_seq,
            unposted,
        })
    }

    /// The cursor's text; a bare number for a page that lists posted lines alone.
    fn format(self, lists_unposted: bool) -> String {
        if !lists_unposted && let Some(seq) = self.before_seq {
            return seq.to_string();
        }
        let posted = self
            .before_seq
            .map_or_else(|| "_".to_owned(), |seq| seq.to_string());
        let unposted = match self.unposted {
            Unposted::Start => "_".to_owned(),
            Unposted::Done => "x".to_owned(),
            Unposted::After(time, id) => {
                format!("{}-{}", time.unix_timestamp_nanos() / 1_000, id.simple())
            }
        };
        format!("{posted}.{unposted}")
    }
}

/// The statuses of deposits, withdrawals and holds a history status lists.
fn raw_statuses(status: HistoryStatus) -> &'static [&'static str] {
    match status {
        HistoryStatus::All => &["pending", "authorized", "failed", "voided", "expired"],
        HistoryStatus::Pending => &["pending", "authorized"],
        HistoryStatus::Failed => &["failed"],
        HistoryStatus::Voided => &["voided", "expired"],
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
fn merge(
    posted: Vec<(i64, HistoryItem)>,
    unposted: Vec<HistoryItem>,
    limit: usize,
    mut cursor: Cursor,
) -> (Vec<HistoryItem>, Option<Cursor>) {
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
                cursor.before_seq = Some(seq);
                items.push(item);
            }
        } else if let Some(item) = unposted.next() {
            cursor.unposted = Unposted::After(item.created_at, item.id);
            items.push(item);
        }
    }
    let more = posted.peek().is_some() || unposted.peek().is_some();
    (items, more.then_some(cursor))
}

impl Wallets<'_> {
    /// A page of a wallet's history, newest first: its posted transactions, or with `status` its
    /// deposits, withdrawals and holds not posted, or everything ([`HistoryItem`]).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`], [`Error::Validation`] for a bad cursor or limit.
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
        let cursor = match query.cursor.as_deref() {
            None => Cursor::START,
            Some(text) => Cursor::parse(text).ok_or_else(|| {
                Error::invalid("cursor", "invalid_format", "not a cursor of this API")
            })?,
        };
        let posted = matches!(query.status, HistoryStatus::Posted | HistoryStatus::All);
        let raw_statuses = raw_statuses(query.status);
        let after = match cursor.unposted {
            Unposted::Done => None,
            Unposted::Start => Some(None),
            Unposted::After(time, id) => Some(Some((time, id))),
        }
        .filter(|_| unposted_kind(query.kind) && !raw_statuses.is_empty());
        let filter = store::HistoryFilter {
            before_seq: cursor.before_seq,
            kind: query.kind.map(TransactionKind::as_str),
            from: query.from,
            to: query.to,
            limit: limit + 1,
        };
        // Lag-tolerant: a replica may answer once it has replayed the caller's last write.
        let (posted, unposted) =
            crate::db::read_on!(self.app.db(), Some(principal.user_id), |db| {
                self.owned(&***db, principal, wallet).await?;
                match after {
                    None if posted => {
                        let lines =
                            self.q("wallet.history", store::history(&***db, wallet, &filter));
                        Ok((lines.await?, Vec::new()))
                    }
                    None => Ok((Vec::new(), Vec::new())),
                    Some(after) => {
                        let lines = store::LinesFilter {
                            posted: filter,
                            after,
                            raw_statuses,
                        };
                        let statement = if posted {
                            "wallet.history_lines"
                        } else {
                            "wallet.history_unposted"
                        };
                        self.q(
                            statement,
                            store::history_lines(&***db, wallet, &lines, posted),
                        )
                        .await
                    }
                }
            })?;
        let limit = usize::try_from(limit).unwrap_or(0);
        let (items, next) = merge(posted, unposted, limit, cursor);
        let lists_unposted = !raw_statuses.is_empty();
        Ok(TransactionPage {
            items,
            next_cursor: next.map(|cursor| cursor.format(lists_unposted)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::TransactionStatus;

    #[test]
    fn cursors_read_back_what_they_wrote() {
        let time = OffsetDateTime::from_unix_timestamp_nanos(1_764_000_000_123_456_000).unwrap();
        let id = Uuid::now_v7();
        for cursor in [
            Cursor::START,
            Cursor {
                before_seq: Some(42),
                unposted: Unposted::Done,
            },
            Cursor {
                before_seq: None,
                unposted: Unposted::After(time, id),
            },
            Cursor {
                before_seq: Some(7),
                unposted: Unposted::After(time, id),
            },
        ] {
            assert_eq!(Cursor::parse(&cursor.format(true)), Some(cursor));
        }
    }

    #[test]
    fn a_page_of_posted_lines_alone_has_a_bare_number_for_cursor() {
        let cursor = Cursor {
            before_seq: Some(17),
            unposted: Unposted::Start,
        };
        assert_eq!(cursor.format(false), "17");
        assert_eq!(cursor.format(true), "17._");
    }

    #[test]
    fn a_bare_number_goes_on_with_posted_lines_alone() {
        assert_eq!(
            Cursor::parse("17"),
            Some(Cursor {
                before_seq: Some(17),
                unposted: Unposted::Done,
            })
        );
    }

    #[test]
    fn what_is_not_a_cursor_is_refused() {
        for text in [
            "", "0", "-3", "abc", "1.", ".x", "1.y", "_.12", "_.12-zz", "1.2.3", "_.-1-00",
        ] {
            assert_eq!(Cursor::parse(text), None, "{text:?}");
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
            created_at: OffsetDateTime::from_unix_timestamp(seconds).unwrap(),
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
        let (items, next) = merge(posted, unposted, 3, Cursor::START);
        let ids: Vec<u128> = items.iter().map(|i| i.id.as_u128()).collect();
        assert_eq!(
            ids,
            [1, 4, 2],
            "newest first, the posted line first on a tie"
        );
        let next = next.expect("lines remain");
        assert_eq!(next.before_seq, Some(8));
        assert_eq!(
            next.unposted,
            Unposted::After(
                OffsetDateTime::from_unix_timestamp(40).unwrap(),
                Uuid::from_u128(4)
            )
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
}
