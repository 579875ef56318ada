//! The test directory answers like a company's: the service account and the users bind over
//! `ldap://`, StartTLS and `ldaps://` (checked with the real `ldapwhoami` against the test CA),
//! a wrong password does not bind, and anonymous clients see nothing.

use regent_testkit::TestDirectory;
use regent_testkit::directory::{SERVICE_DN, SERVICE_PASSWORD, USER_BASE, password_of};
use std::process::Command;

fn whoami(directory: &TestDirectory, url: &str, starttls: bool, dn: &str, password: &str) -> std::process::Output {
    let mut command = Command::new("/usr/bin/ldapwhoami");
    command
        .env("LDAPTLS_CACERT", directory.ca_file())
        .env("LDAPTLS_REQCERT", "demand")
        .args(["-x", "-H", url, "-D", dn, "-w", password]);
    if starttls {
        command.arg("-ZZ");
    }
    command.output().expect("ldapwhoami (apt-get install ldap-utils)")
}

#[tokio::test]
async fn the_service_account_and_jane_bind_over_plain_starttls_and_ldaps() {
    let directory = TestDirectory::start().await.expect("slapd");
    let jane = format!("uid=jane,{USER_BASE}");
    for (url, starttls) in [
        (directory.ldap_url(), false),
        (directory.ldap_url(), true),
        (directory.ldaps_url(), false),
    ] {
        for (dn, password) in [
            (SERVICE_DN.to_owned(), SERVICE_PASSWORD.to_owned()),
            (jane.clone(), password_of("jane")),
        ] {
            let out = whoami(&directory, &url, starttls, &dn, &password);
            assert!(
                out.status.success(),
                "{dn} binds at {url} (StartTLS {starttls}): {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("dn:{dn}"));
        }
    }
    let wrong = whoami(&directory, &directory.ldap_url(), false, &jane, "not-her-password");
    assert!(!wrong.status.success(), "a wrong password does not bind");
    assert_eq!(directory.binds_as(&jane), 4, "slapd's log counts Jane's binds");
}

#[tokio::test]
async fn anonymous_clients_find_nobody_and_a_stopped_directory_refuses_connections() {
    let mut directory = TestDirectory::start().await.expect("slapd");
    let out = Command::new("/usr/bin/ldapsearch")
        .args(["-x", "-H", &directory.ldap_url(), "-b", USER_BASE, "(uid=jane)", "dn"])
        .output()
        .expect("ldapsearch");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("dn: uid=jane"),
        "anonymous search finds nothing"
    );
    directory.stop();
    let out = whoami(&directory, &directory.ldap_url(), false, SERVICE_DN, SERVICE_PASSWORD);
    assert!(!out.status.success());
    directory.restart().await.expect("slapd again");
    let out = whoami(&directory, &directory.ldap_url(), false, SERVICE_DN, SERVICE_PASSWORD);
    assert!(out.status.success(), "back on the same port and data");
}
