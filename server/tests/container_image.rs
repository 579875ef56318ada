//! The container image an operator deploys: `scripts/image --no-build` packs the musl binary
//! (the `image` profile) and the built site into an image FROM scratch with podman; skopeo pushes it into a
//! real registry; the image runs (`podman run --network host`, read-only, a data volume)
//! against that registry, answers `/healthz` and `/readyz`, finds itself by search, shows its
//! own image, and runs as UID 10001, not root. Where podman cannot start containers (some
//! sandboxes refuse crun's rlimits and cgroups), the image's exported filesystem runs with the
//! image's entrypoint, environment and user under chroot, and the same checks follow.
//!
//! Skipped, saying why, when podman is not installed or when the static binary has not been
//! built (`scripts/image` builds it); `REGENT_IMAGE_TEST=required` (set by scripts/test) turns
//! a skip into a failure.

use regent_testkit::skopeo::skopeo;
use regent_testkit::{TestRegistry, free_port};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

fn skip(why: &str) {
    if std::env::var("REGENT_IMAGE_TEST").as_deref() == Ok("required") {
        panic!("REGENT_IMAGE_TEST=required, but {why}");
    }
    eprintln!("container image test skipped: {why}");
}

fn podman(args: &[&str]) -> String {
    let out = Command::new("podman").args(args).output().expect("run podman");
    assert!(
        out.status.success(),
        "podman {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Removes the containers (the running one, the one exported) and the image however the test
/// ends.
struct Cleanup {
    container: String,
    image: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let exported = format!("{}-export", self.container);
        let _ = Command::new("podman")
            .args(["rm", "-f", "-t", "0", &self.container, &exported])
            .output();
        let _ = Command::new("podman").args(["rmi", "-f", &self.image]).output();
    }
}

#[tokio::test]
async fn the_image_runs_as_non_root_against_a_registry_and_shows_itself() {
    if !Path::new("/usr/bin/podman").exists() {
        return skip("podman is not installed (apt-get install podman; scripts/setup does)");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo().join("target"), PathBuf::from);
    let binary = target.join("x86_64-unknown-linux-musl/image/regent");
    if !binary.exists() || !target.join("site/pkg/regent.wasm").exists() {
        return skip(&format!(
            "{} or the site is not built; run scripts/image first",
            binary.display()
        ));
    }
    let name = format!("regent-image-test-{}", std::process::id());
    let image = format!("localhost/{name}:test");
    let cleanup = Cleanup {
        container: name.clone(),
        image: image.clone(),
    };
    let built = Command::new(repo().join("scripts/image"))
        .args(["--no-build", &image])
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&built.stdout).into_owned();
    assert!(
        built.status.success(),
        "scripts/image: {said}{}",
        String::from_utf8_lossy(&built.stderr)
    );
    eprintln!("{said}");

    let config: serde_json::Value = serde_json::from_str(&podman(&["image", "inspect", &image])).unwrap();
    let config = &config[0]["Config"];
    assert_eq!(config["User"], "10001:0");
    assert_eq!(
        config["Env"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| *e == "REGENT_SITE_ROOT=/site")
            .count(),
        1
    );
    assert!(config["Healthcheck"].is_null(), "no HEALTHCHECK: {config}");
    assert_eq!(config["Labels"]["org.opencontainers.image.title"], "Regent");
    assert!(
        config["Labels"]["org.opencontainers.image.revision"]
            .as_str()
            .is_some_and(|r| r.len() == 40),
        "{config}"
    );

    let registry = TestRegistry::start().await.unwrap();
    let (copied, log) = skopeo(&[
        "copy",
        "--quiet",
        &format!("containers-storage:{image}"),
        &format!("docker://{}/regent:test", registry.host()),
        "--dest-tls-verify=false",
    ]);
    assert!(copied, "skopeo copy: {log}");

    // Some sandboxes build images but cannot run containers (crun: "setrlimit RLIMIT_NOFILE:
    // Operation not permitted", "cgroups in hybrid mode not supported"). There the image's own
    // filesystem (exported by podman) runs with the image's entrypoint, environment and user
    // under chroot instead: the same binary, site and permissions, without the runtime.
    let probe = Command::new("podman")
        .args(["run", "--rm", "--network", "none", &image, "--help"])
        .output()
        .unwrap();
    let refused = String::from_utf8_lossy(&probe.stderr).into_owned();
    let port = free_port();
    let overrides = [
        ("REGENT_LISTEN", format!("127.0.0.1:{port}")),
        ("REGENT_REGISTRY_URL", registry.url().to_string()),
        ("REGENT_LOG_FORMAT", "json".to_owned()),
    ];
    let running = if !probe.status.success() && refused.contains("OCI") {
        eprintln!(
            "container image test: podman cannot run containers here ({}); running the image's filesystem and config under chroot",
            refused.trim()
        );
        Running::unpacked(&image, &format!("{name}-export"), config, &overrides)
    } else {
        assert!(probe.status.success(), "the image's regent --help: {refused}");
        Running::container(&image, &name, &overrides)
    };
    let base = format!("http://127.0.0.1:{port}");
    let mut healthy = None;
    for _ in 0..150 {
        if let Ok(r) = reqwest::get(format!("{base}/healthz")).await {
            healthy = Some(r.status().as_u16());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(healthy, Some(200), "{}", running.logs());

    let mut ready = String::new();
    for _ in 0..100 {
        ready = reqwest::get(format!("{base}/readyz"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if ready.contains("\"complete\":true") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready.contains("\"status\":\"ready\""), "{ready}\n{}", running.logs());
    assert!(ready.contains("\"tags\":1"), "{ready}");

    // A search for an exact repository name goes straight to its page, which lists the tag.
    let search = reqwest::get(format!("{base}/images?q=regent")).await.unwrap();
    assert_eq!(search.status(), 200);
    assert_eq!(search.url().path(), "/images/regent");
    let page = search.text().await.unwrap();
    assert!(page.contains("href=\"/images/regent/tags/test\""), "{page}");
    let digest = skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--format",
        "{{.Digest}}",
        &format!("docker://{}/regent:test", registry.host()),
    ]);
    assert!(digest.0, "{}", digest.1);
    let tag = reqwest::get(format!("{base}/images/regent/tags/test"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        tag.contains(digest.1.trim()),
        "Regent shows its own image's digest:\n{tag}"
    );
    let js = reqwest::get(format!("{base}/pkg/regent.js")).await.unwrap();
    assert_eq!(js.status(), 200, "the site's assets are in the image");

    // Not root: the process's user as the host sees it.
    let status = std::fs::read_to_string(format!("/proc/{}/status", running.pid())).unwrap();
    let uid = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    assert!(uid.split_whitespace().skip(1).all(|u| u == "10001"), "{uid}");

    let size: u64 = podman(&["image", "inspect", "--format", "{{.Size}}", &image])
        .parse()
        .unwrap();
    eprintln!("image size: {:.1} MiB uncompressed", size as f64 / 1048576.0);
    drop(running);
    drop(cleanup);
}

/// The image serving on the host's loopback: as a podman container, or as its exported
/// filesystem under chroot where this machine cannot run containers.
enum Running {
    Container {
        name: String,
        _data: tempfile::TempDir,
    },
    Unpacked {
        child: std::process::Child,
        log: PathBuf,
        _root: tempfile::TempDir,
    },
}

impl Running {
    /// `podman run` read-only on the host network with a data volume owned by the image's
    /// user, after the same image granted everyone read in that volume.
    fn container(image: &str, name: &str, overrides: &[(&str, String)]) -> Self {
        let data = tempfile::tempdir().unwrap();
        // The image's user owns its data volume, as fsGroup arranges in Kubernetes.
        std::os::unix::fs::chown(data.path(), Some(10001), Some(0)).unwrap();
        std::fs::set_permissions(data.path(), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        let volume = format!("{}:/data", data.path().display());
        podman(&[
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            &volume,
            image,
            "grant",
            "add",
            "anonymous",
            "*",
            "read",
        ]);
        let mut args = vec![
            "run",
            "-d",
            "--name",
            name,
            "--network",
            "host",
            "--read-only",
            "-v",
            &volume,
        ];
        let settings: Vec<String> = overrides.iter().map(|(k, v)| format!("{k}={v}")).collect();
        for setting in &settings {
            args.extend(["-e", setting.as_str()]);
        }
        args.push(image);
        podman(&args);
        Running::Container {
            name: name.to_owned(),
            _data: data,
        }
    }

    /// `podman create` + `podman export` of the image (as `container`), unpacked with its
    /// owners and modes, then the image's entrypoint with exactly the image's environment
    /// (plus `overrides`) as the image's user, chrooted into it. The user comes from the
    /// image's config, so the UID check after it proves the config's `User`, not a runtime's
    /// enforcement of it.
    fn unpacked(image: &str, container: &str, config: &serde_json::Value, overrides: &[(&str, String)]) -> Self {
        let root = tempfile::tempdir().unwrap();
        podman(&["create", "--name", container, image]);
        let tar = root.path().join("rootfs.tar");
        podman(&["export", "-o", tar.to_str().unwrap(), container]);
        podman(&["rm", container]);
        let fs = root.path().join("rootfs");
        std::fs::create_dir(&fs).unwrap();
        let untar = Command::new("tar")
            .args(["-xpf", tar.to_str().unwrap(), "--same-owner", "--numeric-owner", "-C"])
            .arg(&fs)
            .status()
            .unwrap();
        assert!(untar.success());
        let user = config["User"].as_str().unwrap();
        let entrypoint: Vec<&str> = config["Entrypoint"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        let chrooted = |args: &[&str]| {
            let mut cmd = Command::new("chroot");
            cmd.arg(format!("--userspec={user}"))
                .arg(&fs)
                .args(&entrypoint)
                .args(args);
            cmd.env_clear();
            for entry in config["Env"].as_array().unwrap() {
                let (k, v) = entry.as_str().unwrap().split_once('=').unwrap();
                cmd.env(k, v);
            }
            cmd.envs(overrides.iter().map(|(k, v)| (k, v)));
            cmd
        };
        let granted = chrooted(&["grant", "add", "anonymous", "*", "read"]).output().unwrap();
        assert!(granted.status.success(), "{}", String::from_utf8_lossy(&granted.stderr));
        let log = root.path().join("regent.log");
        let out = std::fs::File::create(&log).unwrap();
        let child = chrooted(&[])
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        Running::Unpacked {
            child,
            log,
            _root: root,
        }
    }

    fn logs(&self) -> String {
        match self {
            Running::Container { name, .. } => podman(&["logs", name]),
            Running::Unpacked { log, .. } => std::fs::read_to_string(log).unwrap_or_default(),
        }
    }

    /// The serving process as the host sees it.
    fn pid(&self) -> u32 {
        match self {
            Running::Container { name, .. } => podman(&["inspect", "--format", "{{.State.Pid}}", name])
                .parse()
                .unwrap(),
            Running::Unpacked { child, .. } => child.id(),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Running::Unpacked { child, .. } = self {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
