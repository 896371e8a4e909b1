//! Roles and what they imply for task assignment.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a user is allowed to do. Workers and accountants hold tasks; managers and admins never do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Worker,
    Manager,
    Accountant,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Worker, Role::Manager, Role::Accountant, Role::Admin];

    /// "Any popug except managers and admins" may be given a task.
    pub fn is_assignable(self) -> bool {
        matches!(self, Role::Worker | Role::Accountant)
    }

    pub fn as_str(self) -> &'static str {
        self.as_str_const()
    }

    /// [`Role::as_str`] usable in constants.
    pub const fn as_str_const(self) -> &'static str {
        match self {
            Role::Worker => "worker",
            Role::Manager => "manager",
            Role::Accountant => "accountant",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown role `{0}`: expected one of worker, manager, accountant, admin")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_workers_and_accountants_are_assignable() {
        let assignable: Vec<_> = Role::ALL
            .into_iter()
            .filter(|r| r.is_assignable())
            .collect();
        assert_eq!(assignable, vec![Role::Worker, Role::Accountant]);
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
            assert_eq!(serde_json::to_string(&role).unwrap(), format!("\"{role}\""));
        }
        assert!("boss".parse::<Role>().is_err());
    }
}
