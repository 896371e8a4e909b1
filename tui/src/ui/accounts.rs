//! Every worker's balance, and the audit log of the one picked with Enter.

use super::account::entries;
use super::widgets::{block, clip, list, money, money_style, remote_state};
use crate::app::App;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Cell, Paragraph};

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(area);
    let negative = app
        .accounts
        .data
        .as_ref()
        .map_or(0, |a| a.iter().filter(|a| a.balance_cents < 0).count());
    let title = format!("Accounts: {negative} negative (!)");
    if let Some(inner) = remote_state(
        frame,
        left,
        block(&title, &app.accounts),
        &app.accounts,
        Vec::is_empty,
        "No accounts yet.",
    ) {
        let accounts = app.accounts.data.as_deref().unwrap_or_default();
        list(
            frame,
            inner,
            &["User", "Balance"],
            &[Constraint::Fill(1), Constraint::Length(12)],
            accounts.len(),
            Some(app.accounts_selected.index),
            |i| {
                let account = &accounts[i];
                vec![
                    Cell::from(clip(&account.user.username, 30)),
                    Cell::from(Span::styled(
                        money(account.balance_cents),
                        money_style(account.balance_cents),
                    )),
                ]
            },
        );
    }
    match &app.log_user {
        None => {
            let block = Block::bordered().title(" Audit log ");
            let inner = block.inner(right);
            frame.render_widget(block, right);
            frame.render_widget(
                Paragraph::new(
                    " Enter: show the selected account's audit log.\n c: close the day.",
                ),
                inner,
            );
        }
        Some(user) => {
            let title = format!("Audit log: {}", user.username);
            if let Some(inner) = remote_state(
                frame,
                right,
                block(&title, &app.log),
                &app.log,
                Vec::is_empty,
                "No entries yet.",
            ) {
                entries(
                    frame,
                    inner,
                    app.log.data.as_deref().unwrap_or_default(),
                    None,
                    app.timezone,
                );
            }
        }
    }
}
