//! Keyset paging for every list: `?limit=` (1..=500, default 50) and an opaque `?cursor=`
//! that is the id of the last item of the previous page. Ids are UUIDv7, so id order is
//! creation order and a page never skips or repeats rows inserted meanwhile.

use crate::error::Error;
use ates_shared::api::{DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, Page};
use uuid::Uuid;

#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub limit: u32,
    /// Items strictly after (in the list's order) this id.
    pub after: Option<Uuid>,
}

impl PageRequest {
    pub fn parse(limit: Option<u32>, cursor: Option<&str>) -> Result<PageRequest, Error> {
        let limit = limit.unwrap_or(DEFAULT_PAGE_LIMIT);
        if !(1..=MAX_PAGE_LIMIT).contains(&limit) {
            return Err(Error::unprocessable(
                "invalid_limit",
                format!("`limit` must be between 1 and {MAX_PAGE_LIMIT}"),
            ));
        }
        let after = match cursor {
            None => None,
            Some(c) => Some(crate::text::parse_uuid(c).ok_or_else(|| {
                Error::unprocessable(
                    "invalid_cursor",
                    "`cursor` must be a `next_cursor` from a previous page",
                )
            })?),
        };
        Ok(PageRequest { limit, after })
    }

    /// Rows to fetch: one more than the page, to know whether another page follows.
    pub fn fetch(&self) -> i64 {
        i64::from(self.limit) + 1
    }

    /// Cuts the fetched rows to a page and sets `next_cursor` when more remain.
    pub fn page<T>(&self, mut rows: Vec<T>, id_of: impl Fn(&T) -> Uuid) -> Page<T> {
        let more = rows.len() > self.limit as usize;
        rows.truncate(self.limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| id_of(r).to_string())
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_outside_the_range_name_the_parameter() {
        for bad in [0, 501] {
            let err = PageRequest::parse(Some(bad), None).unwrap_err();
            assert!(err.to_string().contains("`limit`"));
        }
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, 50);
        assert!(
            PageRequest::parse(None, Some("nope"))
                .unwrap_err()
                .to_string()
                .contains("`cursor`")
        );
    }

    #[test]
    fn a_full_page_points_at_the_next_one() {
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let req = PageRequest::parse(Some(2), None).unwrap();
        let page = req.page(ids.clone(), |id| *id);
        assert_eq!(page.items, ids[..2]);
        assert_eq!(page.next_cursor, Some(ids[1].to_string()));
        let last = req.page(ids[..2].to_vec(), |id| *id);
        assert_eq!(last.next_cursor, None);
    }
}
