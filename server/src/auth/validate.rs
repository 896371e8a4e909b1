//! Input rules for users. Every refusal names the field.

use crate::error::{Error, Result};
use ates_shared::api::{CreateUser, UpdateUser};

const MIN_PASSWORD: usize = 8;

/// What a username may be: 3 to 32 of a-z, 0-9, `.`, `_`, `-`, taken as given (the
/// OpenAPI pattern says exactly this): ` ann` is refused, not trimmed.
pub fn is_username(name: &str) -> bool {
    (3..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
}

pub fn new_user(mut new: CreateUser) -> Result<CreateUser> {
    if !is_username(&new.username) {
        return Err(Error::unprocessable(
            "invalid_username",
            "`username` must be 3 to 32 characters of a-z, 0-9, `.`, `_` or `-`",
        ));
    }
    if new.password.chars().count() < MIN_PASSWORD {
        return Err(Error::unprocessable(
            "weak_password",
            format!("`password` must be at least {MIN_PASSWORD} characters"),
        ));
    }
    new.full_name = full_name(&new.full_name)?;
    new.email = email(&new.email)?;
    Ok(new)
}

pub fn user_change(mut change: UpdateUser) -> Result<UpdateUser> {
    if let Some(name) = &change.full_name {
        change.full_name = Some(full_name(name)?);
    }
    if let Some(mail) = &change.email {
        change.email = Some(email(mail)?);
    }
    Ok(change)
}

/// 1 to 100 characters as sent, not blank; kept without surrounding whitespace.
fn full_name(name: &str) -> Result<String> {
    if crate::text::is_blank(name) || name.chars().count() > 100 {
        return Err(Error::unprocessable(
            "invalid_full_name",
            "`full_name` must be 1 to 100 characters",
        ));
    }
    Ok(name.trim().to_owned())
}

fn email(mail: &str) -> Result<String> {
    // The mail library's own parser: an address it accepts is one payouts can be sent to.
    let valid = mail.chars().count() <= 254 && mail.parse::<lettre::Address>().is_ok();
    if !valid {
        return Err(Error::unprocessable(
            "invalid_email",
            "`email` must look like name@example.com",
        ));
    }
    Ok(mail.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ates_shared::Role;

    fn user(username: &str, password: &str, email: &str) -> CreateUser {
        CreateUser {
            username: username.into(),
            password: password.into(),
            full_name: "Ann Popug".into(),
            email: email.into(),
            role: Role::Worker,
        }
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            (user("A!", "longenough", "a@b.c"), "`username`"),
            (user("ann", "short", "a@b.c"), "`password`"),
            (user("ann", "longenough", "nope"), "`email`"),
            (user("ann", "longenough", "a b@c.d"), "`email`"),
            (user("ann", "longenough", "a@b@c.d"), "`email`"),
            (user("ann", "longenough", "<a@b.c>"), "`email`"),
        ];
        for (input, field) in cases {
            let err = new_user(input).unwrap_err().to_string();
            assert!(err.contains(field), "{err} should name {field}");
        }
        assert!(new_user(user("ann", "longenough", "a@b.c")).is_ok());
        // Taken as sent, as the OpenAPI pattern says: no silent trimming.
        assert!(new_user(user(" ann ", "longenough", "a@b.c")).is_err());
        assert!(new_user(user("ann", "longenough", " a@b.c")).is_err());
    }
}
