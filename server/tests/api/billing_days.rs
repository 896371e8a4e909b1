//! Days end at midnight in the company's time zone, and days missed while the server was
//! down are closed when it starts.

use crate::helpers::TestApp;
use ates_server::clock::ManualClock;
use ates_server::db::DbError;
use ates_shared::api::{Entry, EntryKind, MyAccount, Page, Payment};
use chrono::{NaiveDate, TimeZone, Utc};

#[tokio::test]
async fn the_day_closes_at_midnight_in_the_company_time_zone() {
    // 23:59:59 on March 10th in New York is already 03:59:59 on March 11th in UTC.
    let new_york = chrono_tz::America::New_York;
    let clock = ManualClock::new(
        new_york
            .with_ymd_and_hms(2026, 3, 10, 23, 59, 59)
            .unwrap()
            .with_timezone(&Utc),
    );
    let app = TestApp::spawn_configured(tempfile::tempdir().unwrap(), clock.clone(), |c| {
        c.timezone = new_york
    })
    .await;
    let ann = app.worker_in_profit("ann").await.0;
    let before: MyAccount = app.get_ok("/api/v1/accounting/me", &ann.token).await;
    assert!(before.balance_cents > 0);
    let march_10 = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
    assert!(
        before.log.iter().all(|e| e.date == march_10),
        "billed to the New York day: {:?}",
        before.log
    );
    let payments: Page<Payment> = app.get_ok("/api/v1/accounting/payments", &app.admin).await;
    assert!(payments.items.is_empty(), "not midnight yet");

    clock.advance(chrono::Duration::seconds(2));
    let paid: Payment = app
        .eventually("the midnight close", || async {
            let page: Page<Payment> = app.get_ok("/api/v1/accounting/payments", &app.admin).await;
            page.items.into_iter().next()
        })
        .await;
    assert_eq!(
        (paid.user.id, paid.date, paid.amount_cents),
        (ann.user.id, march_10, before.balance_cents)
    );
    let after: MyAccount = app.get_ok("/api/v1/accounting/me", &ann.token).await;
    assert_eq!(after.balance_cents, 0);
}

#[tokio::test]
async fn days_missed_while_the_server_was_down_are_closed_at_start_oldest_first() {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap());
    let app = TestApp::spawn_configured(tempfile::tempdir().unwrap(), clock.clone(), |_| {}).await;
    let ann = app.worker_in_profit("ann").await.0;
    let owed: MyAccount = app.get_ok("/api/v1/accounting/me", &ann.token).await;
    let dir = app.stop().await;

    // Two days later the server starts again.
    clock.set(Utc.with_ymd_and_hms(2026, 6, 3, 12, 0, 0).unwrap());
    let app = TestApp::spawn_configured(dir, clock.clone(), |_| {}).await;
    let ann_token = app.login("ann", crate::helpers::PASSWORD).await;
    let log: Page<Entry> = app
        .eventually("the missed day's payout", || async {
            let log: Page<Entry> = app
                .get_ok(
                    &format!("/api/v1/accounting/accounts/{}/log", ann.user.id),
                    &ann_token,
                )
                .await;
            log.items
                .iter()
                .any(|e| e.kind == EntryKind::Payout)
                .then_some(log)
        })
        .await;
    let payout = log
        .items
        .iter()
        .find(|e| e.kind == EntryKind::Payout)
        .unwrap();
    assert_eq!(
        (payout.date, payout.amount_cents),
        (
            NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
            -owed.balance_cents
        )
    );

    let closed: Vec<String> = app
        .eventually("both missed days closed", || async {
            let dates: Vec<String> = app
                .state
                .accounting
                .db()
                .read(|c| {
                    let mut stmt = c.prepare("SELECT date FROM closed_days ORDER BY rowid")?;
                    let rows = stmt.query_map([], |r| r.get(0))?;
                    rows.collect::<Result<Vec<String>, _>>()
                        .map_err(DbError::from)
                })
                .await
                .unwrap();
            (dates.len() == 2).then_some(dates)
        })
        .await;
    assert_eq!(closed, ["2026-06-01", "2026-06-02"]);
}
