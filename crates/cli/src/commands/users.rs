//! `warroom user create|list|disable|enable|password`: web UI accounts. The password never appears on the command
//! line; it comes from a file or stdin and goes to the server once, which hashes it.

use std::io::{IsTerminal, Read};
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::Out;
use crate::args::UserCommand;
use crate::client::Api;
use crate::output::{field, table, time_field};

pub async fn run(api: &Api, out: Out, cmd: UserCommand) -> Result<()> {
    match cmd {
        UserCommand::Create {
            name,
            role,
            security,
            password_file,
        } => {
            let password = match password_file {
                Some(path) => read_password_file(&path)?,
                None => read_password_stdin()?,
            };
            let body = json!({
                "name": name, "role": role.as_str(), "security": security, "password": password,
            });
            let answer = api.post("/api/v1/users", &body).await?;
            out.print(&answer, |v| {
                let security = if v.get("security").and_then(Value::as_bool) == Some(true) {
                    ", security"
                } else {
                    ""
                };
                Ok(format!(
                    "Created user {} ({}{security}); they can log in at /ui/login.",
                    field(v, "name"),
                    field(v, "role"),
                ))
            })
        }
        UserCommand::Disable { name } => {
            let answer = api
                .post(
                    &format!("/api/v1/users/{}/disable", segment(&name)),
                    &json!({}),
                )
                .await?;
            out.print(&answer, |v| {
                Ok(format!(
                    "Disabled user {}: they cannot log in, and their sessions have ended.",
                    field(v, "name")
                ))
            })
        }
        UserCommand::Enable { name } => {
            let answer = api
                .post(
                    &format!("/api/v1/users/{}/enable", segment(&name)),
                    &json!({}),
                )
                .await?;
            out.print(&answer, |v| {
                Ok(format!(
                    "Enabled user {}: they can log in again.",
                    field(v, "name")
                ))
            })
        }
        UserCommand::Password {
            name,
            password_file,
        } => {
            let password = match password_file {
                Some(path) => read_password_file(&path)?,
                None => read_password_stdin()?,
            };
            let answer = api
                .post(
                    &format!("/api/v1/users/{}/password", segment(&name)),
                    &json!({ "password": password }),
                )
                .await?;
            out.print(&answer, |v| {
                Ok(format!(
                    "Set the password of {}; their sessions have ended.",
                    field(v, "name")
                ))
            })
        }
        UserCommand::List => {
            let answer = api.get("/api/v1/users", &[]).await?;
            out.print(&answer, |v| {
                let users = v
                    .get("users")
                    .and_then(Value::as_array)
                    .context("the server's answer has no user list")?;
                let rows: Vec<Vec<String>> = users
                    .iter()
                    .map(|u| {
                        vec![
                            field(u, "name"),
                            field(u, "role"),
                            if u.get("security").and_then(Value::as_bool) == Some(true) {
                                "yes".into()
                            } else {
                                "-".into()
                            },
                            time_field(u, "created_at"),
                            field(u, "created_by"),
                            if u.get("disabled_at").is_some_and(|d| !d.is_null()) {
                                format!("disabled {}", time_field(u, "disabled_at"))
                            } else {
                                "active".into()
                            },
                        ]
                    })
                    .collect();
                Ok(table(
                    &["NAME", "ROLE", "SECURITY", "CREATED", "BY", "STATE"],
                    &rows,
                ))
            })
        }
    }
}

/// A login name as one URL path segment: anything but unreserved characters is
/// percent-encoded, so a name with `/` or `?` still names one account.
fn segment(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The first line of `text`, without its line ending; an empty password is refused here so
/// the mistake is named before anything is sent.
fn first_line(text: &str, source: &str) -> Result<String> {
    let line = text.lines().next().unwrap_or_default();
    if line.is_empty() {
        bail!("password: {source} is empty; put the password on its first line");
    }
    Ok(line.to_string())
}

fn read_password_file(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("--password-file {}", path.display()))?;
    first_line(&text, &format!("--password-file {}", path.display()))
}

fn read_password_stdin() -> Result<String> {
    let stdin = std::io::stdin();
    // Typing it would echo it to the screen: ask for a pipe or a file instead.
    if stdin.is_terminal() {
        bail!(
            "password: pipe it on stdin (e.g. from a password manager) or use --password-file PATH"
        );
    }
    let mut text = String::new();
    stdin
        .take(64 * 1024)
        .read_to_string(&mut text)
        .context("reading the password from stdin")?;
    first_line(&text, "stdin")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_one_path_segment() {
        assert_eq!(segment("alice"), "alice");
        assert_eq!(segment("a/b?c#d"), "a%2Fb%3Fc%23d");
        assert_eq!(segment("zoë"), "zo%C3%AB");
    }

    #[test]
    fn the_first_line_is_the_password() {
        assert_eq!(
            first_line("s3cret pass phrase\r\nignored\n", "stdin").expect("line"),
            "s3cret pass phrase"
        );
        let err = first_line("\nx", "stdin").expect_err("empty");
        assert!(err.to_string().starts_with("password:"), "{err}");
    }
}
