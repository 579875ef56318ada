//! `regent user …`, `regent grant …` and `regent token …`: managing users, access and the
//! token signing key from the server's shell, for the first admin, a lost password, making
//! sample data public, key rotation, or scripts. Passwords come from standard input so they
//! never show in the process list or the shell history.

use regent_domain::access::{Grant, Level, Name, Scope, Subject};
use regent_domain::store::{Actor, Store};
use std::io::BufRead;
use std::path::Path;

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Manage Regent's users from the shell (works without the registry).
    #[command(subcommand)]
    User(UserCommand),
    /// Manage grants from the shell: who may read, write, delete or administer what.
    #[command(subcommand)]
    Grant(GrantCommand),
    /// Rotate the key that signs registry tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum TokenCommand {
    /// Step 1 of a rotation: add a new signing key. It is published in /auth/certs.pem but does
    /// not sign yet; give the registry the new bundle and restart it before step 2.
    NewKey,
    /// Step 2: sign with the newest added key. The old key stays published until its tokens
    /// have expired (refresh tokens it signed end: users log in again).
    UseNewKey,
    /// List the signing keys: id, state, key id (kid), created.
    Keys,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum GrantCommand {
    /// Give a subject a level on a scope (replacing its earlier level there), e.g.
    /// `regent grant add group:qa skyfield read` or `regent grant add anonymous 'public/*' read`.
    Add {
        /// user:<name>, group:<name>, anonymous or authenticated
        subject: String,
        /// a repository, a namespace `team/*`, or `*` for everything
        scope: String,
        /// read, write, delete or admin
        level: String,
    },
    /// Remove a subject's grant on a scope.
    Remove { subject: String, scope: String },
    /// List every grant: scope, subject, level.
    List,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is read from standard input (one line).
    Add {
        name: String,
        /// Make the user a global admin.
        #[arg(long)]
        admin: bool,
    },
    /// Set a user's password, read from standard input (one line).
    Password { name: String },
    /// Make a user a global admin (or, with --revoke, no longer one).
    Admin {
        name: String,
        #[arg(long)]
        revoke: bool,
    },
    /// List users with their groups.
    List,
}

/// The file in the data directory that holds Regent's store.
pub const STORE_FILE: &str = "regent.db";

async fn open(data_dir: &Path) -> Result<Store, String> {
    Store::open(&data_dir.join(STORE_FILE)).await.map_err(|e| e.to_string())
}

pub async fn grant(data_dir: &Path, command: GrantCommand) -> Result<String, String> {
    let store = open(data_dir).await?;
    let actor = Actor::cli();
    match command {
        GrantCommand::Add { subject, scope, level } => {
            let grant = Grant {
                subject: Subject::parse(&subject)?,
                scope: Scope::parse(&scope)?,
                level: Level::parse(&level)?,
            };
            store.put_grant(&actor, &grant).await.map_err(|e| e.to_string())?;
            Ok(format!("{} may now {} {}", grant.subject, grant.level, grant.scope))
        }
        GrantCommand::Remove { subject, scope } => {
            let (subject, scope) = (Subject::parse(&subject)?, Scope::parse(&scope)?);
            store
                .remove_grant(&actor, &subject, &scope)
                .await
                .map_err(|e| e.to_string())?;
            Ok(format!("removed the grant of {subject} on {scope}"))
        }
        GrantCommand::List => {
            let grants = store.grants().await.map_err(|e| e.to_string())?;
            Ok(grants
                .iter()
                .map(|g| format!("{}\t{}\t{}", g.scope, g.subject, g.level))
                .collect::<Vec<_>>()
                .join("\n"))
        }
    }
}

pub async fn user(data_dir: &Path, command: UserCommand) -> Result<String, String> {
    let store = open(data_dir).await?;
    let actor = Actor::cli();
    let name = |n: &str| Name::parse(n).map_err(|e| format!("user name: {e}"));
    match command {
        UserCommand::Add { name: n, admin } => {
            let user = name(&n)?;
            let password = read_password()?;
            store
                .create_user(&actor, &user, &password, admin)
                .await
                .map_err(|e| e.to_string())?;
            Ok(format!(
                "created user {user}{}",
                if admin { " (global admin)" } else { "" }
            ))
        }
        UserCommand::Password { name: n } => {
            let user = name(&n)?;
            let password = read_password()?;
            store
                .set_password(&actor, &user, &password)
                .await
                .map_err(|e| e.to_string())?;
            Ok(format!("password of {user} changed"))
        }
        UserCommand::Admin { name: n, revoke } => {
            let user = name(&n)?;
            store
                .set_admin(&actor, &user, !revoke)
                .await
                .map_err(|e| e.to_string())?;
            Ok(if revoke {
                format!("{user} is no longer a global admin")
            } else {
                format!("{user} is now a global admin")
            })
        }
        UserCommand::List => {
            let users = store.users().await.map_err(|e| e.to_string())?;
            Ok(users
                .iter()
                .map(|u| {
                    let groups: Vec<String> = u
                        .groups
                        .iter()
                        .map(|(g, owner)| if *owner { format!("{g} (owner)") } else { g.to_string() })
                        .collect();
                    format!(
                        "{}{}{}\t{}",
                        u.name,
                        if u.admin { " [admin]" } else { "" },
                        if u.disabled { " [disabled]" } else { "" },
                        groups.join(", ")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"))
        }
    }
}

pub async fn token(data_dir: &Path, command: TokenCommand) -> Result<String, String> {
    use regent_domain::store::KeyState;
    use regent_domain::token::{KeyMaterial, Signer, TokenSettings};
    let store = open(data_dir).await?;
    let actor = Actor::cli();
    match command {
        TokenCommand::NewKey => {
            let material = KeyMaterial::generate()?;
            store
                .add_signing_key(&actor, &material, KeyState::Pending)
                .await
                .map_err(|e| e.to_string())?;
            Ok(
                "added a pending signing key. Next: fetch /auth/certs.pem (it now holds the new \
                certificate too) into the registry's auth.token.rootcertbundle, restart the registry, \
                then run `regent token use-new-key`."
                    .into(),
            )
        }
        TokenCommand::UseNewKey => {
            store.activate_pending_key(&actor).await.map_err(|e| e.to_string())?;
            Ok(
                "Regent now signs with the new key (a running Regent picks it up within 30 seconds). \
                The old certificate stays in /auth/certs.pem until its tokens have expired."
                    .into(),
            )
        }
        TokenCommand::Keys => {
            let keys = store.signing_keys().await.map_err(|e| e.to_string())?;
            let settings = TokenSettings {
                issuer: String::new(),
                service: String::new(),
                lifetime: std::time::Duration::ZERO,
            };
            let mut lines = Vec::new();
            for k in keys {
                let kid = Signer::new(&k.material, settings.clone())?.kid().to_owned();
                lines.push(format!("{}\t{}\t{kid}\t{}", k.id, k.state.as_str(), k.created_at));
            }
            Ok(lines.join("\n"))
        }
    }
}

fn read_password() -> Result<String, String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("reading the password from standard input: {e}"))?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        return Err("give the password on standard input, e.g. `echo \"$PASSWORD\" | regent user add jane`".into());
    }
    Ok(password)
}
