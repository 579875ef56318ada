//! What the tag page reads from the registry, on arbitrary content: a manifest of any declared
//! media type (image, list or index, with `?platform=` picking a platform image) and an image
//! config. Whatever a pusher wrote, reading it must never panic: parsing may refuse, a platform
//! pick must point into the index, sizes must not overflow.
#![no_main]

use libfuzzer_sys::fuzz_target;
use regent_domain::reference::Digest;
use regent_domain::registry::{ImageConfig, Manifest, MediaType, RawManifest, pick_platform};

const MEDIA_TYPES: [&str; 5] = [
    MediaType::DOCKER_MANIFEST,
    MediaType::DOCKER_MANIFEST_LIST,
    MediaType::OCI_MANIFEST,
    MediaType::OCI_INDEX,
    "application/octet-stream",
];

fuzz_target!(|input: (u8, &str, &[u8], &[u8])| {
    let (kind, platform, manifest, config) = input;
    let raw = RawManifest {
        digest: Digest::sha256_of(manifest),
        media_type: MediaType::parse(MEDIA_TYPES[kind as usize % MEDIA_TYPES.len()]),
        bytes: manifest.to_vec(),
    };
    let _ = raw.annotations();
    let parsed = raw.parse();
    match &parsed {
        Ok(m @ Manifest::Image { config: c, layers }) => {
            let size = m.image_size().expect("an image has a size");
            assert!(size >= c.size && layers.iter().all(|l| size >= l.size));
        }
        Ok(Manifest::Index { manifests }) => {
            for wanted in [Some(platform), None] {
                match pick_platform(manifests, wanted) {
                    Some(i) => assert!(i < manifests.len()),
                    None => assert!(manifests.is_empty()),
                }
            }
            for m in manifests {
                let _ = m.platform.as_ref().map(ToString::to_string);
            }
        }
        Err(_) => {}
    }
    if let Ok(c) = ImageConfig::parse(config) {
        let _ = c.platform();
        for e in c.config.and_then(|r| r.env).unwrap_or_default() {
            let _ = e.split_once('=');
        }
    }
});
