//! The real Debian OpenLDAP server (`slapd` 2.5), one per test, on loopback: the company
//! directory of Sarah's story (`hackershop.lan`).
//!
//! Each instance gets a temp dir with a generated `slapd.conf`, its own MDB database filled by
//! `slapadd` from [`HACKERSHOP_LDIF`] before start, a test CA made here (rcgen) with a server
//! certificate for 127.0.0.1, and two free ports: `ldap://` (StartTLS offered) and `ldaps://`.
//! Anonymous clients may only bind: searches need the service account, as in a real company
//! directory. It can be stopped and started again on the same ports and data, which is how
//! tests take the directory away from Regent. `modify` runs the real `ldapmodify`.

use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub const SLAPD_BINARY: &str = "/usr/sbin/slapd";
pub const SUFFIX: &str = "dc=hackershop,dc=lan";
pub const ROOT_DN: &str = "cn=admin,dc=hackershop,dc=lan";
pub const ROOT_PASSWORD: &str = "root-secret-for-tests";
/// The service account Regent binds as to search.
pub const SERVICE_DN: &str = "cn=regent,ou=services,dc=hackershop,dc=lan";
pub const SERVICE_PASSWORD: &str = "regent-service-password";
pub const USER_BASE: &str = "ou=people,dc=hackershop,dc=lan";
pub const GROUP_BASE: &str = "ou=groups,dc=hackershop,dc=lan";

/// The directory users' password in tests: `<name>-directory-pw` (≥ 10 characters).
pub fn password_of(user: &str) -> String {
    format!("{user}-directory-pw")
}

/// Sarah's company: josh, eric and jane in `devops`; greg and frank in `qa`; `engineering`
/// holds the group `devops` (nested) and frank directly; `olddev` is disabled the Active
/// Directory way (`userAccountControl` 514: bit 2, ACCOUNTDISABLE).
pub fn hackershop_ldif() -> String {
    let mut ldif = format!(
        "dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: hackershop\no: Hackershop\n\n\
         dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people\n\n\
         dn: ou=groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n\n\
         dn: ou=services,{SUFFIX}\nobjectClass: organizationalUnit\nou: services\n\n\
         dn: {SERVICE_DN}\nobjectClass: person\ncn: regent\nsn: Regent\nuserPassword: {SERVICE_PASSWORD}\n\n"
    );
    for (user, full, uac) in [
        ("josh", "Josh Devops", 512),
        ("eric", "Eric Devops", 512),
        ("jane", "Jane Lead", 512),
        ("greg", "Greg QA", 512),
        ("frank", "Frank QA", 512),
        ("olddev", "Old Developer", 514),
    ] {
        ldif.push_str(&format!(
            "dn: uid={user},{USER_BASE}\nobjectClass: inetOrgPerson\nobjectClass: regentTestAccount\n\
             uid: {user}\ncn: {full}\nsn: {user}\nuserAccountControl: {uac}\nuserPassword: {}\n\n",
            password_of(user)
        ));
    }
    let group = |name: &str, members: &[String]| {
        let mut g = format!("dn: cn={name},{GROUP_BASE}\nobjectClass: groupOfNames\ncn: {name}\n");
        for m in members {
            g.push_str(&format!("member: {m}\n"));
        }
        g.push('\n');
        g
    };
    let user = |u: &str| format!("uid={u},{USER_BASE}");
    ldif.push_str(&group(
        "devops",
        &[user("josh"), user("eric"), user("jane"), user("olddev")],
    ));
    ldif.push_str(&group("qa", &[user("greg"), user("frank")]));
    ldif.push_str(&group(
        "engineering",
        &[format!("cn=devops,{GROUP_BASE}"), user("frank")],
    ));
    ldif
}

pub struct TestDirectory {
    ldap_port: u16,
    ldaps_port: u16,
    dir: PathBuf,
    config: PathBuf,
    ca_pem: PathBuf,
    child: Option<Child>,
    _temp: tempfile::TempDir,
}

impl TestDirectory {
    /// slapd with the hackershop.lan directory, on two free loopback ports.
    pub async fn start() -> Result<Self> {
        if !Path::new(SLAPD_BINARY).exists() {
            bail!("{SLAPD_BINARY} is missing: apt-get install slapd ldap-utils (scripts/setup does it)");
        }
        let temp = tempfile::Builder::new().prefix("regent-slapd-").tempdir()?;
        let dir = temp.path().to_path_buf();
        std::fs::create_dir_all(dir.join("db"))?;
        let ca_pem = write_certificates(&dir)?;
        let config = dir.join("slapd.conf");
        std::fs::write(&config, slapd_conf(&dir))?;
        let ldif = dir.join("seed.ldif");
        std::fs::write(&ldif, hackershop_ldif())?;
        let out = Command::new("/usr/sbin/slapadd")
            .arg("-f")
            .arg(&config)
            .arg("-l")
            .arg(&ldif)
            .output()
            .context("running slapadd")?;
        if !out.status.success() {
            bail!("slapadd failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let mut directory = Self {
            ldap_port: crate::free_port(),
            ldaps_port: crate::free_port(),
            dir,
            config,
            ca_pem,
            child: None,
            _temp: temp,
        };
        directory.run().await?;
        Ok(directory)
    }

    /// `ldap://127.0.0.1:<port>` (plain; StartTLS offered).
    pub fn ldap_url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.ldap_port)
    }

    /// `ldaps://127.0.0.1:<port>`
    pub fn ldaps_url(&self) -> String {
        format!("ldaps://127.0.0.1:{}", self.ldaps_port)
    }

    /// The test CA that signed the server's certificate (PEM file).
    pub fn ca_file(&self) -> &Path {
        &self.ca_pem
    }

    /// Bind attempts as `dn` that slapd has seen since it was first started, from its stats
    /// log (one `BIND dn="…" method=` line each, successful or not).
    pub fn binds_as(&self, dn: &str) -> usize {
        let log = std::fs::read_to_string(self.dir.join("slapd.log")).unwrap_or_default();
        let needle = format!("bind dn=\"{}\" method=", dn.to_ascii_lowercase());
        log.lines().filter(|l| l.to_ascii_lowercase().contains(&needle)).count()
    }

    /// Connections slapd accepted since it was first started (`ACCEPT` lines).
    pub fn connections(&self) -> usize {
        let log = std::fs::read_to_string(self.dir.join("slapd.log")).unwrap_or_default();
        log.lines().filter(|l| l.contains(" ACCEPT from ")).count()
    }

    /// Applies `ldif` with the real `ldapmodify` as the directory's root.
    pub fn modify(&self, ldif: &str) -> Result<()> {
        let mut child = Command::new("/usr/bin/ldapmodify")
            .args(["-x", "-H", &self.ldap_url(), "-D", ROOT_DN, "-w", ROOT_PASSWORD])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("running ldapmodify (apt-get install ldap-utils)")?;
        child.stdin.take().expect("stdin").write_all(ldif.as_bytes())?;
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!("ldapmodify failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    }

    /// Adds `count` users `<prefix>1` … `<prefix><count>` (passwords from [`password_of`]) to
    /// `group`, for load tests.
    pub fn add_users(&self, prefix: &str, count: usize, group: &str) -> Result<Vec<String>> {
        let names: Vec<String> = (1..=count).map(|i| format!("{prefix}{i}")).collect();
        let mut ldif = String::new();
        for name in &names {
            ldif.push_str(&format!(
                "dn: uid={name},{USER_BASE}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: {name}\ncn: {name}\nsn: {name}\nuserPassword: {}\n\n",
                password_of(name)
            ));
        }
        ldif.push_str(&format!(
            "dn: cn={group},{GROUP_BASE}\nchangetype: modify\nadd: member\n"
        ));
        for name in &names {
            ldif.push_str(&format!("member: uid={name},{USER_BASE}\n"));
        }
        self.modify(&ldif)?;
        Ok(names)
    }

    /// Takes `user` out of `group` in the directory.
    pub fn remove_member(&self, group: &str, user: &str) -> Result<()> {
        self.modify(&format!(
            "dn: cn={group},{GROUP_BASE}\nchangetype: modify\ndelete: member\nmember: uid={user},{USER_BASE}\n"
        ))
    }

    /// Disables `user` the Active Directory way (`userAccountControl` bit 2).
    pub fn disable(&self, user: &str) -> Result<()> {
        self.modify(&format!(
            "dn: uid={user},{USER_BASE}\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 514\n"
        ))
    }

    /// Freezes slapd (SIGSTOP): connections are accepted by the kernel but nothing answers,
    /// like a domain controller that hangs.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused slapd run again (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        if let Some(child) = &self.child {
            let _ = Command::new("/bin/kill")
                .arg(signal)
                .arg(child.id().to_string())
                .status();
        }
    }

    /// Kills slapd; the database stays.
    pub fn stop(&mut self) {
        self.resume();
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same ports and data.
    pub async fn restart(&mut self) -> Result<()> {
        self.stop();
        self.run().await
    }

    async fn run(&mut self) -> Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("slapd.log"))?;
        // `-d stats` keeps slapd in the foreground and logs every operation to stderr.
        let child = Command::new(SLAPD_BINARY)
            .arg("-f")
            .arg(&self.config)
            .arg("-h")
            .arg(format!("{}/ {}/", self.ldap_url(), self.ldaps_url()))
            .args(["-d", "stats"])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {SLAPD_BINARY}"))?;
        let ports = [self.ldap_port, self.ldaps_port];
        let child = self.child.insert(child);
        // slapd usually listens within 100 ms.
        crate::wait_until_serving("slapd", child, &self.dir.join("slapd.log"), || async move {
            ports
                .iter()
                .all(|p| std::net::TcpStream::connect(("127.0.0.1", *p)).is_ok())
        })
        .await
    }
}

impl Drop for TestDirectory {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A CA and a server certificate for 127.0.0.1 and localhost signed by it; returns the CA's
/// PEM path.
fn write_certificates(dir: &Path) -> Result<PathBuf> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "hackershop.lan test CA");
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate()?;
    let mut params = CertificateParams::new(vec!["localhost".to_owned()])?;
    params.subject_alt_names.push(SanType::IpAddress("127.0.0.1".parse()?));
    params.distinguished_name.push(DnType::CommonName, "127.0.0.1");
    let server_cert = params.signed_by(&server_key, &issuer)?;
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, ca_cert.pem())?;
    std::fs::write(dir.join("server.pem"), server_cert.pem())?;
    std::fs::write(dir.join("server.key"), server_key.serialize_pem())?;
    Ok(ca)
}

fn slapd_conf(dir: &Path) -> String {
    let d = dir.display();
    // `userAccountControl` with Active Directory's own OID, and a test-only auxiliary class
    // that allows it on inetOrgPerson entries.
    format!(
        "include /etc/ldap/schema/core.schema\n\
         include /etc/ldap/schema/cosine.schema\n\
         include /etc/ldap/schema/inetorgperson.schema\n\
         attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl' \
           EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )\n\
         objectclass ( 1.3.6.1.4.1.32473.1.1 NAME 'regentTestAccount' AUXILIARY MAY userAccountControl )\n\
         modulepath /usr/lib/ldap\n\
         moduleload back_mdb\n\
         pidfile {d}/slapd.pid\n\
         argsfile {d}/slapd.args\n\
         TLSCACertificateFile {d}/ca.pem\n\
         TLSCertificateFile {d}/server.pem\n\
         TLSCertificateKeyFile {d}/server.key\n\
         database mdb\n\
         suffix \"{SUFFIX}\"\n\
         rootdn \"{ROOT_DN}\"\n\
         rootpw {ROOT_PASSWORD}\n\
         directory {d}/db\n\
         maxsize 33554432\n\
         index objectClass eq\n\
         index uid,cn,member eq\n\
         access to attrs=userPassword by anonymous auth by * none\n\
         access to * by users read by * none\n"
    )
}
