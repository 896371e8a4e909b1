use crate::helpers::TestApp;
use ates_shared::Role;
use ates_shared::api::{
    Account, CloseDayResult, Earnings, Entry, EntryKind, MailStatus, MyAccount, Page, Payment,
};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn fees_and_rewards_reach_the_workers_account_and_audit_log() {
    let app = TestApp::spawn().await;
    let (ann, task) = app.worker_in_profit("ann").await;
    let me: MyAccount = app.get_ok("/api/v1/accounting/me", &ann.token).await;
    let kinds: Vec<EntryKind> = me.log.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EntryKind::Reward, EntryKind::Fee], "newest first");
    let (reward, fee) = (me.log[0].amount_cents, me.log[1].amount_cents);
    assert!((2_000..=4_000).contains(&reward) && (-2_000..=-1_000).contains(&fee));
    assert_eq!(me.balance_cents, reward + fee);
    assert_eq!(me.earned_today_cents, reward + fee);
    let entry_task = me.log[0].task.as_ref().unwrap();
    assert_eq!(
        (entry_task.id, entry_task.title.as_str()),
        (task.id, "ann's job")
    );

    let log: Page<Entry> = app
        .get_ok(
            &format!("/api/v1/accounting/accounts/{}/log", ann.user.id),
            &ann.token,
        )
        .await;
    assert_eq!(log.items, me.log);
    let accounts: Page<Account> = app.get_ok("/api/v1/accounting/accounts", &app.admin).await;
    assert_eq!(accounts.items.len(), 1);
    assert_eq!(
        (accounts.items[0].user.id, accounts.items[0].balance_cents),
        (ann.user.id, me.balance_cents)
    );
}

#[tokio::test]
async fn a_reshuffle_bills_every_reassignment() {
    let app = TestApp::spawn().await;
    let ann = app.popug("ann", Role::Worker).await;
    let boss = app.popug("boss", Role::Manager).await;
    for i in 0..5 {
        app.create_task(&ann.token, &format!("t{i}")).await;
    }
    for _ in 0..3 {
        app.post("/api/v1/tasks/reshuffle", &boss.token, json!({}))
            .await;
    }
    app.settle().await;
    let log: Page<Entry> = app
        .get_ok(
            &format!("/api/v1/accounting/accounts/{}/log?limit=500", ann.user.id),
            &app.admin,
        )
        .await;
    assert_eq!(
        log.items.len(),
        20,
        "5 creations + 3 reshuffles of 5 tasks, all on ann"
    );
    assert!(log.items.iter().all(|e| e.kind == EntryKind::Fee));
    let earnings: Earnings = app.get_ok("/api/v1/accounting/earnings", &app.admin).await;
    assert_eq!(earnings.days.len(), 30);
    let today = earnings.days.last().unwrap();
    assert_eq!(
        today.earnings_cents,
        -log.items.iter().map(|e| e.amount_cents).sum::<i64>()
    );
}

#[tokio::test]
async fn closing_the_day_twice_pays_once_and_mails_the_worker() {
    let app = TestApp::spawn().await;
    let (ann, _) = app.worker_in_profit("ann").await;
    // Bob holds nothing: only ann is paid.
    app.popug("bob", Role::Worker).await;
    let before: MyAccount = app.get_ok("/api/v1/accounting/me", &ann.token).await;

    let acc = app.popug("acc", Role::Accountant).await;
    let (status, body) = app
        .post("/api/v1/accounting/close-day", &acc.token, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let first: CloseDayResult = serde_json::from_value(body).unwrap();
    let (_, body) = app
        .post("/api/v1/accounting/close-day", &app.admin, json!({}))
        .await;
    let second: CloseDayResult = serde_json::from_value(body).unwrap();
    assert!(first.payouts >= 1 && first.paid_cents > 0);
    assert_eq!(
        (second.payouts, second.paid_cents, second.date),
        (0, 0, first.date)
    );

    let after: MyAccount = app.get_ok("/api/v1/accounting/me", &ann.token).await;
    assert_eq!(after.balance_cents, 0);
    let log: Page<Entry> = app
        .get_ok(
            &format!("/api/v1/accounting/accounts/{}/log", ann.user.id),
            &ann.token,
        )
        .await;
    let payouts: Vec<&Entry> = log
        .items
        .iter()
        .filter(|e| e.kind == EntryKind::Payout)
        .collect();
    assert_eq!(payouts.len(), 1);
    assert_eq!(payouts[0].amount_cents, -before.balance_cents);
    assert!(payouts[0].task.is_none());

    // The e-mail lands in the spool, and the payment says it went out.
    let expected = format!(
        "${}.{:02}",
        before.balance_cents / 100,
        before.balance_cents % 100
    );
    let mail = app
        .eventually("the payout e-mail", || async {
            let dir = app.data_dir().join("mail");
            let files = std::fs::read_dir(&dir).ok()?;
            files
                .filter_map(|f| std::fs::read_to_string(f.ok()?.path()).ok())
                .find(|text| {
                    text.contains("To: \"ann Popug\" <ann@popug.inc>")
                        || text.contains("ann@popug.inc")
                })
        })
        .await;
    assert!(
        mail.contains(&expected),
        "the amount {expected} is in the mail:\n{mail}"
    );
    assert!(
        mail.contains("ann's job"),
        "the day's rows are in the mail:\n{mail}"
    );
    let payments: Page<Payment> = app
        .eventually("the payment marked sent", || async {
            let page: Page<Payment> = app.get_ok("/api/v1/accounting/payments", &acc.token).await;
            page.items
                .iter()
                .all(|p| p.mail_status == MailStatus::Sent)
                .then_some(page)
        })
        .await;
    assert_eq!(payments.items.len() as u32, first.payouts);
}

/// (path, is a POST, expected status per caller).
type Case<'a> = (&'a str, bool, [(&'a str, StatusCode); 5]);

#[tokio::test]
async fn money_endpoints_admit_their_roles() {
    let app = TestApp::spawn().await;
    let ann = app.popug("ann", Role::Worker).await;
    let bob = app.popug("bob", Role::Worker).await;
    let acc = app.popug("acc", Role::Accountant).await;
    let boss = app.popug("boss", Role::Manager).await;
    let ann_log = format!("/api/v1/accounting/accounts/{}/log", ann.user.id);
    let cases: [Case; 5] = [
        (
            "/api/v1/accounting/me",
            false,
            [
                ("ann", StatusCode::OK),
                ("bob", StatusCode::OK),
                ("acc", StatusCode::OK),
                ("boss", StatusCode::OK),
                ("admin", StatusCode::OK),
            ],
        ),
        (
            "/api/v1/accounting/accounts",
            false,
            [
                ("ann", StatusCode::FORBIDDEN),
                ("bob", StatusCode::FORBIDDEN),
                ("acc", StatusCode::OK),
                ("boss", StatusCode::FORBIDDEN),
                ("admin", StatusCode::OK),
            ],
        ),
        (
            &ann_log,
            false,
            [
                ("ann", StatusCode::OK),
                ("bob", StatusCode::FORBIDDEN),
                ("acc", StatusCode::OK),
                ("boss", StatusCode::FORBIDDEN),
                ("admin", StatusCode::OK),
            ],
        ),
        (
            "/api/v1/accounting/earnings",
            false,
            [
                ("ann", StatusCode::FORBIDDEN),
                ("bob", StatusCode::FORBIDDEN),
                ("acc", StatusCode::OK),
                ("boss", StatusCode::FORBIDDEN),
                ("admin", StatusCode::OK),
            ],
        ),
        (
            "/api/v1/accounting/close-day",
            true,
            [
                ("ann", StatusCode::FORBIDDEN),
                ("bob", StatusCode::FORBIDDEN),
                ("acc", StatusCode::OK),
                ("boss", StatusCode::FORBIDDEN),
                ("admin", StatusCode::OK),
            ],
        ),
    ];
    for (path, is_post, expectations) in cases {
        for (who, expected) in expectations {
            let token = match who {
                "ann" => &ann.token,
                "bob" => &bob.token,
                "acc" => &acc.token,
                "boss" => &boss.token,
                _ => &app.admin,
            };
            let (status, body) = if is_post {
                app.post(path, token, json!({})).await
            } else {
                app.get(path, token).await
            };
            assert_eq!(status, expected, "{path} as {who}: {body}");
            let method = if is_post {
                reqwest::Method::POST
            } else {
                reqwest::Method::GET
            };
            let (status, _) = app.call(method, path, None, None).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} without a token");
        }
    }
    let (status, _) = app.get("/api/v1/accounting/payments", &ann.token).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = app
        .get(
            &format!("/api/v1/accounting/accounts/{}/log", uuid::Uuid::now_v7()),
            &acc.token,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    for (query, field) in [
        ("to=-262144-01-01", "to"),
        ("from=2026-02-30", "from"),
        ("from=2026-05-02&to=2026-05-01", "from"),
        ("from=2020-01-01&to=2026-01-01", "from"),
        ("to=soon", "to"),
    ] {
        let (status, body) = app
            .get(&format!("/api/v1/accounting/earnings?{query}"), &acc.token)
            .await;
        assert!(status.is_client_error(), "{query}: {status}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(field),
            "{query}: {body}"
        );
    }
}

#[tokio::test]
async fn an_idle_day_closer_commits_nothing_so_clients_hear_of_no_change() {
    let app = TestApp::spawn().await;
    app.worker_in_profit("ann").await;
    // Let the closer's first ticks pass, then listen: it ticks every 50 ms in tests.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mut commits = app.state.accounting.db().commits();
    commits.mark_unchanged();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        !commits.has_changed().unwrap(),
        "accounting committed while nothing happened"
    );
}

/// A full name with a comma or quotes once made the recipient unparseable, so the payout
/// e-mail never went out. The mailbox is now built from the name and the address.
#[tokio::test]
async fn payout_mail_reaches_a_worker_whose_name_has_commas_and_quotes() {
    let app = TestApp::spawn().await;
    let (ann, _) = app.worker_in_profit("ann").await;
    let (status, body) = app
        .patch_user(
            ann.user.id,
            json!({"full_name": "Popug, Ann \"Quill\" <x@evil.test>"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.settle().await;
    let (status, body) = app
        .post("/api/v1/accounting/close-day", &app.admin, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let payments: Page<Payment> = app
        .eventually("the payment marked sent", || async {
            let page: Page<Payment> = app.get_ok("/api/v1/accounting/payments", &app.admin).await;
            page.items
                .iter()
                .all(|p| p.mail_status == MailStatus::Sent)
                .then_some(page)
        })
        .await;
    assert_eq!(payments.items.len(), 1, "{payments:?}");
    let mail = std::fs::read_dir(app.data_dir().join("mail"))
        .unwrap()
        .filter_map(|f| std::fs::read_to_string(f.ok()?.path()).ok())
        .find(|text| text.contains("ann@popug.inc"))
        .expect("the mail is in the spool");
    let to = mail
        .lines()
        .find(|l| l.starts_with("To:"))
        .expect("a To header");
    assert!(to.trim_end().ends_with("<ann@popug.inc>"), "{to}");
    assert!(!to.contains("<x@evil.test>,"), "the name is quoted: {to}");
}

#[tokio::test]
async fn a_tasks_ledger_shows_each_assignments_fee_and_its_reward_to_money_roles_only() {
    let app = TestApp::spawn().await;
    let (ann, task) = app.worker_in_profit("ann").await;
    let _bob = app.popug("bob", Role::Worker).await;
    let boss = app.popug("boss", Role::Manager).await;
    let other = app.create_task(&boss.token, "open work").await;
    let (status, _) = app
        .post("/api/v1/tasks/reshuffle", &boss.token, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    app.settle().await;
    let rows: Vec<ates_shared::api::LedgerRow> = app
        .get_ok(
            &format!("/api/v1/accounting/tasks/{}/ledger", task.id),
            &app.admin,
        )
        .await;
    let kinds: Vec<EntryKind> = rows.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [EntryKind::Fee, EntryKind::Reward],
        "oldest first; done tasks stay"
    );
    assert!(rows.iter().all(|r| r.user.id == ann.user.id));
    let reshuffled: Vec<ates_shared::api::LedgerRow> = app
        .get_ok(
            &format!("/api/v1/accounting/tasks/{}/ledger", other.id),
            &app.admin,
        )
        .await;
    assert_eq!(reshuffled.len(), 2, "created, then reshuffled: two fees");
    assert!(reshuffled.iter().all(|r| r.kind == EntryKind::Fee));
    for token in [&ann.token, &boss.token] {
        let (status, _) = app
            .get(
                &format!("/api/v1/accounting/tasks/{}/ledger", task.id),
                token,
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (status, body) = app
        .get("/api/v1/accounting/tasks/not-a-task/ledger", &app.admin)
        .await;
    assert!(status.is_client_error(), "{body}");
}
