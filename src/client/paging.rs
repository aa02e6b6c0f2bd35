//! Loading every referral of a box: follow `next_cursor` until it is null,
//! within bounds, so that a hostile or broken server (one that repeats a
//! cursor, hands out new cursors forever, pages backwards or sends huge
//! pages) ends the load with an error that says what happened instead of
//! growing the client without limit.

use std::collections::HashSet;

use super::http::{Client, ClientError};
use super::one_line;
use crate::wire::{Referral, ReferralBox, Status};

/// What one list load may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListLimits {
    /// Referrals in all (200,000 by default: twenty years of a hub's
    /// 10,000 leads a year, and about 180 MB held at ~0.9 KB a referral,
    /// so an endless server stops the load within 300 MB: issue 10).
    pub max_items: u64,
    /// Response bytes in all (512 MiB by default).
    pub max_bytes: u64,
}

impl Default for ListLimits {
    fn default() -> Self {
        Self {
            max_items: 200_000,
            max_bytes: 512 * 1024 * 1024,
        }
    }
}

impl ListLimits {
    /// Pages a load of `limit`-sized pages may take: twice what the item
    /// bound needs (pages can come back short), plus the last one.
    pub fn max_pages(&self, limit: u32) -> u64 {
        self.max_items.div_ceil(u64::from(limit.max(1))) * 2 + 1
    }
}

/// Why a load was stopped (the server broke the protocol's paging).
fn stopped(what: String) -> ClientError {
    ClientError::Decode(format!("stopped listing: {what}"))
}

fn mib(bytes: u64) -> u64 {
    bytes / (1024 * 1024)
}

impl Client {
    /// Every referral of `box_`, following `next_cursor` until it is null,
    /// with the `as_of` of the first page (watch from there to miss nothing).
    pub async fn list_all(&self, box_: ReferralBox) -> Result<(Vec<Referral>, u64), ClientError> {
        self.list_all_with(box_, &[], super::LIST_ALL_PAGE).await
    }

    /// [`Client::list_all`] with a status filter and page size.
    pub async fn list_all_with(
        &self,
        box_: ReferralBox,
        statuses: &[Status],
        limit: u32,
    ) -> Result<(Vec<Referral>, u64), ClientError> {
        let mut items = Vec::new();
        let as_of = self
            .list_all_each(box_, statuses, limit, |page| items.extend(page))
            .await?;
        Ok((items, as_of))
    }

    /// [`Client::list_all_with`] handing each page's referrals to `each` as
    /// it arrives instead of collecting them: a caller that keeps its own
    /// copy never holds the whole list twice. Returns the first page's
    /// `as_of`. On an error, the pages already handed over stay handed over.
    ///
    /// The load stops with [`ClientError::Decode`] ("stopped listing: ...")
    /// when the server repeats a cursor, sends a page that does not move
    /// forward (ids must keep growing, as pages are ordered by id), sends
    /// more than `limit` items in a page or an empty page with a cursor, or
    /// goes past [`ListLimits`] (items, bytes or pages).
    pub async fn list_all_each(
        &self,
        box_: ReferralBox,
        statuses: &[Status],
        limit: u32,
        mut each: impl FnMut(Vec<Referral>),
    ) -> Result<u64, ClientError> {
        let bounds = self.config().list_limits;
        let max_pages = bounds.max_pages(limit);
        let mut cursor: Option<String> = None;
        let mut seen = HashSet::new();
        let mut as_of = None;
        let (mut pages, mut items, mut bytes) = (0u64, 0u64, 0u64);
        let mut last_id: Option<String> = None;
        loop {
            if pages == max_pages {
                return Err(stopped(format!(
                    "the server sent {pages} pages of up to {limit} and still gave a next cursor"
                )));
            }
            let (page, size) = self
                .list_page_sized(box_, statuses, cursor.as_deref(), limit)
                .await?;
            pages += 1;
            bytes += size as u64;
            items += page.items.len() as u64;
            if bytes > bounds.max_bytes {
                return Err(stopped(format!(
                    "the server sent more than {} MiB over {pages} pages",
                    mib(bounds.max_bytes)
                )));
            }
            if items > bounds.max_items {
                return Err(stopped(format!(
                    "the server sent more than {} referrals",
                    bounds.max_items
                )));
            }
            if page.items.len() > limit as usize {
                return Err(stopped(format!(
                    "the server sent {} referrals in a page of {limit}",
                    page.items.len()
                )));
            }
            if let (Some(last), Some(first)) = (&last_id, page.items.first())
                && first.id <= *last
            {
                return Err(stopped(format!(
                    "the page after {:?} did not move forward (it starts at {:?})",
                    one_line(last, 40),
                    one_line(&first.id, 40)
                )));
            }
            if page.items.is_empty() && page.next_cursor.is_some() {
                return Err(stopped(
                    "the server sent an empty page with a next cursor".into(),
                ));
            }
            if let Some(next) = &page.next_cursor
                && !seen.insert(next.clone())
            {
                return Err(stopped(format!(
                    "the server repeated the cursor {:?}",
                    one_line(next, 60)
                )));
            }
            as_of.get_or_insert(page.as_of);
            if let Some(last) = page.items.last() {
                last_id = Some(last.id.clone());
            }
            cursor = page.next_cursor;
            each(page.items);
            if cursor.is_none() {
                return Ok(as_of.unwrap_or_default());
            }
        }
    }
}
