//! The screens after login by name, and which role sees which (each screen itself lives
//! in `crate::screens`).

use ates_shared::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tab {
    MyTasks,
    Board,
    NewTask,
    MyAccount,
    Reshuffle,
    Accounts,
    Earnings,
    Users,
    Events,
    Analytics,
}

impl Tab {
    pub fn title(self) -> &'static str {
        match self {
            Tab::MyTasks => "My tasks",
            Tab::Board => "Board",
            Tab::NewTask => "New task",
            Tab::MyAccount => "Account",
            Tab::Reshuffle => "Reshuffle",
            Tab::Accounts => "Accounts",
            Tab::Earnings => "Earnings",
            Tab::Users => "Users",
            Tab::Events => "Events",
            Tab::Analytics => "Analytics",
        }
    }

    /// The screen's name in `config.toml`'s `[keys]` (`my_tasks.complete`).
    pub fn config_name(self) -> &'static str {
        match self {
            Tab::MyTasks => "my_tasks",
            Tab::Board => "board",
            Tab::NewTask => "new_task",
            Tab::MyAccount => "account",
            Tab::Reshuffle => "reshuffle",
            Tab::Accounts => "accounts",
            Tab::Earnings => "earnings",
            Tab::Users => "users",
            Tab::Events => "events",
            Tab::Analytics => "analytics",
        }
    }
}

/// Only what the role may use (SPEC "The terminal client"). Workers and accountants hold
/// tasks, so they see their own tasks and account; managers and admins never hold any.
pub fn tabs_for(role: Role) -> Vec<Tab> {
    use Tab::*;
    match role {
        Role::Worker => vec![MyTasks, Board, NewTask, MyAccount],
        Role::Accountant => vec![MyTasks, Board, NewTask, MyAccount, Accounts, Earnings],
        Role::Manager => vec![Board, NewTask, Reshuffle],
        Role::Admin => vec![
            Board, NewTask, Reshuffle, Accounts, Earnings, Users, Events, Analytics,
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manager_sees_the_board_new_task_and_reshuffle_only() {
        assert_eq!(
            tabs_for(Role::Manager),
            vec![Tab::Board, Tab::NewTask, Tab::Reshuffle]
        );
    }

    #[test]
    fn only_task_holders_see_their_own_tasks() {
        for role in Role::ALL {
            assert_eq!(
                tabs_for(role).contains(&Tab::MyTasks),
                role.is_assignable(),
                "{role}"
            );
        }
    }
}
